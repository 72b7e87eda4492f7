# Exceptions through rewritten statements: chaining, raise from, bare raise, sys.exc_info()
# in and after handlers, exceptions raised in finally blocks, tracebacks.
import sys
import traceback


class CM:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def report(fn):
    try:
        fn()
    except BaseException as e:
        print("".join(traceback.format_exception(e)))


def chain_in_loop():
    for i in range(3):
        try:
            {}[i]
        except KeyError:
            with CM():
                raise ValueError("while handling %d" % i)


report(chain_in_loop)


def raise_from():
    for i in range(1):
        try:
            1 / 0
        except ZeroDivisionError as e:
            with CM():
                raise RuntimeError("wrapped") from e


report(raise_from)


def raise_from_none():
    with CM():
        try:
            int("x")
        except ValueError:
            raise KeyError("clean") from None


report(raise_from_none)


def bare_reraise():
    for i in range(2):
        with CM():
            try:
                [][i]
            except IndexError:
                print("exc_info in handler", sys.exc_info()[0].__name__)
                raise


report(bare_reraise)


def exc_info_everywhere():
    print("start", sys.exc_info())
    try:
        raise OSError("one")
    except OSError:
        for i in range(1):
            print("in loop in handler", sys.exc_info()[1])
            with CM():
                print("in with in handler", sys.exc_info()[1])
            match i:
                case 0:
                    print("in case in handler", sys.exc_info()[1])
        print("still", sys.exc_info()[1])
    print("after", sys.exc_info())


exc_info_everywhere()


def finally_raises():
    for i in range(1):
        try:
            raise KeyError("first")
        finally:
            raise ValueError("from finally")


report(finally_raises)


def nested_handlers():
    try:
        raise TypeError("a")
    except TypeError:
        try:
            with CM():
                raise ValueError("b")
        except ValueError:
            print("inner", sys.exc_info()[1], "context", repr(sys.exc_info()[1].__context__))
        print("back to", sys.exc_info()[1])
        raise


report(nested_handlers)


def reraise_stored():
    try:
        for x in [1]:
            1 / x / 0
    except ZeroDivisionError as e:
        saved = e
    with CM():
        raise saved


report(reraise_stored)


def deep(n):
    if n == 0:
        raise LookupError("deep")
    for _ in [n]:
        with CM():
            match n:
                case _:
                    deep(n - 1)


report(lambda: deep(3))


def suppress_context_attr():
    try:
        with CM():
            try:
                raise KeyError(1)
            except KeyError as e:
                raise ValueError(2) from None
    except ValueError as v:
        print(v.__suppress_context__, repr(v.__context__), v.__cause__)


suppress_context_attr()


def exit_sees_traceback():
    class Recorder:
        def __enter__(self):
            return self

        def __exit__(self, typ, val, tb):
            lines = []
            while tb is not None:
                lines.append(tb.tb_lineno)
                tb = tb.tb_next
            print("exit traceback lines", lines, val.__traceback__ is not None)
            return True

    with Recorder():
        for i in [0]:
            1 / i


exit_sees_traceback()

try:
    raise KeyError("handled")
except KeyError:
    for i in range(1):
        with CM():
            raise AttributeError("uncaught, with a context")
