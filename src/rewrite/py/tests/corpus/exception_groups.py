# Exception groups and except* inside rewritten statements.
import sys
import traceback


class CM:
    def __init__(self, suppress=()):
        self.suppress = suppress

    def __enter__(self):
        return self

    def __exit__(self, typ, val, tb):
        print("exit got", type(val).__name__)
        return isinstance(val, self.suppress) if self.suppress else False


def grouped():
    for i in range(2):
        with CM():
            try:
                raise ExceptionGroup("group %d" % i, [ValueError(i), KeyError(i), TypeError(i)])
            except* ValueError as eg:
                print("values", eg.exceptions)
            except* KeyError as eg:
                print("keys", eg.exceptions, sys.exc_info()[0].__name__)


try:
    grouped()
except ExceptionGroup as eg:
    print("left", eg.exceptions)
    print("".join(traceback.format_exception(eg)))


def star_in_loop():
    out = []
    for i in range(3):
        try:
            raise ExceptionGroup("g", [OSError(i)])
        except* OSError:
            out.append(i)
    return out


print(star_in_loop())

with CM(suppress=ExceptionGroup):
    raise ExceptionGroup("suppressed", [ValueError()])


def match_in_star():
    try:
        raise ExceptionGroup("m", [ValueError("v"), KeyError("k")])
    except* ValueError as eg:
        match eg.exceptions:
            case (ValueError() as v,):
                print("matched", v)


try:
    match_in_star()
except ExceptionGroup as eg:
    print("remaining", eg.exceptions)


def nested_groups():
    with CM():
        try:
            raise ExceptionGroup("outer", [ExceptionGroup("inner", [ValueError(1)]), TypeError(2)])
        except* ValueError:
            raise RuntimeError("from handler")


nested_groups()
