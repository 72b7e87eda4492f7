# with: __enter__ raising, __exit__ raising (with and without a body exception), managers that
# are not managers (python3's exact TypeErrors), special-method lookup on the type only.
import sys
import traceback


class CM:
    def __init__(self, name, enter_raises=False, exit_raises=False):
        self.name = name
        self.enter_raises = enter_raises
        self.exit_raises = exit_raises

    def __enter__(self):
        if self.enter_raises:
            raise RuntimeError("enter " + self.name)
        return self

    def __exit__(self, *exc):
        print("exit", self.name, exc[0])
        if self.exit_raises:
            raise RuntimeError("exit " + self.name)


def show(fn):
    try:
        fn()
    except BaseException as e:
        print("".join(traceback.format_exception(e)))


def enter_raises():
    with CM("a") as a, CM("b", enter_raises=True):
        print("never")


show(enter_raises)


def exit_raises_during_exception():
    with CM("c", exit_raises=True):
        {}["missing"]


show(exit_raises_during_exception)


def exit_raises_normally():
    with CM("d", exit_raises=True):
        pass


show(exit_raises_normally)


def exit_raises_on_return():
    with CM("e", exit_raises=True):
        return 1


show(exit_raises_on_return)


def exit_raises_on_break():
    for i in range(2):
        with CM("f", exit_raises=True):
            break


show(exit_raises_on_break)


def inner_exit_raises_outer_sees():
    with CM("outer"):
        with CM("inner", exit_raises=True):
            raise KeyError("body")


show(inner_exit_raises_outer_sees)


class NoEnter:
    def __exit__(self, *a):
        pass


class NoExit:
    def __enter__(self):
        print("never entered")


class Instance:
    pass


inst = Instance()
inst.__enter__ = lambda: None
inst.__exit__ = lambda *a: None


class Dynamic:
    def __getattr__(self, name):
        return lambda *a: None


for mgr in (NoEnter(), NoExit(), inst, Dynamic(), 42, None):
    try:
        with mgr:
            print("never")
    except TypeError as e:
        print("TypeError:", e)


class Meta(type):
    def __enter__(cls):
        return "meta"

    def __exit__(cls, *a):
        pass


class UsesMeta(metaclass=Meta):
    def __enter__(self):
        return "instance"

    def __exit__(self, *a):
        pass


with UsesMeta as v:
    print("class as manager", v)
with UsesMeta() as v:
    print("instance as manager", v)


class Descr:
    def __get__(self, obj, objtype=None):
        print("descriptor __get__ for", type(obj).__name__)
        return lambda *a: "from descriptor"


class ViaDescriptor:
    __enter__ = Descr()
    __exit__ = Descr()


with ViaDescriptor() as v:
    print(v)


class StaticExit:
    def __enter__(self):
        return self

    @staticmethod
    def __exit__(*a):
        print("static exit", len(a))


with StaticExit():
    pass

print("exc_info", sys.exc_info())

with NoExit():
    pass
