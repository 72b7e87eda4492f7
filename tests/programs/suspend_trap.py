"""A value whose unpickling runs program code: it writes MARKER next to this file. `inspect`
must never create it; a resume (which does unpickle) does."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def _spring(state):
    with open(os.path.join(HERE, "MARKER"), "w") as f:
        f.write("unpickled")
    t = Trap.__new__(Trap)
    t.__dict__.update(state)
    return t


class Trap:
    def __init__(self, label):
        self.label = label

    def __reduce__(self):
        return (_spring, (dict(self.__dict__),))

    def __repr__(self):
        return "Trap(%r)" % self.label


def work(trap, count):
    total = count * 2
    print("working", trap.label, total)
    return total


t = Trap("x")
work(t, 21)
boom = Trap("boom")
raise RuntimeError("crash " + boom.label)
