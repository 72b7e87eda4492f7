# match: every kind of pattern, guards that fail, no match, bindings, cases in loops with
# break/continue, subjects evaluated once.
from dataclasses import dataclass
import enum


class Color(enum.Enum):
    RED = 1
    GREEN = 2


@dataclass
class Point:
    x: int
    y: int


class Plain:
    __match_args__ = ("a",)

    def __init__(self, a, b=0):
        self.a = a
        self.b = b


def describe(v):
    match v:
        case None:
            return "none"
        case True:
            return "true"
        case 0 | 1:
            return "small int"
        case "text" as s:
            return "text " + s
        case Color.RED:
            return "red"
        case Point(x=0, y=0):
            return "origin"
        case Point(x, y) if x == y:
            return "diagonal %d" % x
        case Point(x=x) if x < 0:
            return "left"
        case Plain(1, b=b):
            return "plain one b=%d" % b
        case Plain(a):
            return "plain %r" % (a,)
        case [] | ():
            return "empty"
        case [x]:
            return "one %r" % (x,)
        case [1, *rest]:
            return "starts with one, rest %r" % (rest,)
        case [_, _, *_] as long if len(long) > 3:
            return "long"
        case {"kind": "a", **others}:
            return "mapping a %r" % (others,)
        case {"kind": kind, "n": int(n)} if n > 1:
            return "mapping %s %d" % (kind, n)
        case str() | bytes():
            return "string-like"
        case float(f) if f != f:
            return "nan"
        case int(i) if i > 100:
            return "big"
        case _:
            return "other %r" % (v,)


for v in [None, True, 0, 1, "text", Color.RED, Color.GREEN, Point(0, 0), Point(2, 2), Point(-1, 5),
          Point(3, 4), Plain(1, 7), Plain("z"), [], (), [9], [1, 2, 3], [4, 5, 6, 7], [4, 5, 6],
          {"kind": "a", "x": 1}, {"kind": "b", "n": 2}, {"kind": "b", "n": 1}, "other", b"x",
          float("nan"), 1000, 5.5]:
    print(describe(v))


def first_match(items):
    found = []
    for item in items:
        match item:
            case int() if item < 0:
                continue
            case "stop":
                break
            case int(n):
                found.append(n)
            case _:
                found.append("?")
    else:
        found.append("end")
    return found


print(first_match([1, -2, 3, "x"]))
print(first_match([1, "stop", 3]))

calls = []


def subject():
    calls.append(1)
    return [1, 2]


match subject():
    case [1]:
        pass
    case [1, 2, 3]:
        pass
    case [a, b]:
        print("bound", a, b)
print("subject evaluated", len(calls), "time(s)")

match 5:
    case 1:
        print("no")
    case 2:
        print("no")
print("no case matched")

y = "unchanged"
match (1, 2):
    case (1, y) if y > 5:
        print("never")
    case _:
        print("guard failed; y is", y)

match {"a": 1, "b": 2}:
    case {"a": 1, **rest}:
        print("rest", rest)

# Capture at module level, in a case that is not the first.
match [3, 4]:
    case [0, _]:
        pass
    case [first, second]:
        print("module-level capture", first, second)
print("names", sorted(n for n in globals() if "sl_" in n))


def nested(v):
    match v:
        case [x, y]:
            match x:
                case 0:
                    return "zero first, then %r" % (y,)
                case _:
                    pass
            return "pair"
        case _:
            return "not a pair"


print(nested([0, 1]), nested([1, 1]), nested(3))


class NotMatchArgs:
    __match_args__ = ["a"]


try:
    match NotMatchArgs():
        case NotMatchArgs(1):
            pass
except TypeError as e:
    print("TypeError:", e)


def guard_raises(v):
    match v:
        case int() if 1 / v:
            return "ok"


print(guard_raises(2))
guard_raises(0)
