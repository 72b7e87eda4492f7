# What a with keeps alive: nothing more than python3 does (the value __enter__ returned is not
# kept by the statement; the subject of a match is let go before the case body).
import gc
import weakref


class Value:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("freed", self.name)


class CM:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        return Value(self.name)

    def __exit__(self, *a):
        print("exit", self.name)


with CM("unbound value"):
    print("body without target")

with CM("deleted target") as v:
    del v
    print("after del")


def in_function():
    with CM("function") as w:
        w = None
        print("rebound")


in_function()


class Subject:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print("subject freed", self.name)


def make(name):
    return Subject(name)


match make("matched"):
    case Subject():
        print("case body")
print("after match")

match make("unmatched"):
    case int():
        print("never")
print("after unmatched")


def loop_iterator():
    class It:
        def __init__(self):
            self.n = 2

        def __iter__(self):
            return self

        def __next__(self):
            if not self.n:
                raise StopIteration
            self.n -= 1
            return self.n

        def __del__(self):
            print("iterator freed")

    for x in It():
        print("item", x)
    print("after loop")
    for x in It():
        break
    print("after break")
    for x in It():
        pass
    else:
        print("else clause")
    print("after else")


loop_iterator()
gc.collect()
print("end")
