# Loops (and withs and matches) at module level, in class bodies and in enum bodies: the hidden
# names must not be left behind, nor become enum members.
import contextlib
import enum

for i in range(2):
    pass
print("module names", sorted(n for n in globals() if "sl_" in n))


class Table:
    rows = []
    for i in range(3):
        rows.append(i * i)
    with contextlib.nullcontext(5) as five:
        pass
    match rows:
        case [0, 1, *_]:
            kind = "squares"
    del i


print(Table.rows, Table.five, Table.kind)
print("class names", sorted(n for n in vars(Table) if "sl_" in n))


class Period(enum.Enum):
    _ignore_ = "Period i"
    Period = vars()
    for i in range(3):
        Period["day_%d" % i] = i
    match 1:
        case 1:
            ONE = 100


print(list(Period))


class Flags(enum.IntFlag):
    A = 1
    B = 2
    with contextlib.nullcontext():
        C = 4


print(list(Flags), Flags.C)


def outer():
    for i in range(2):

        def inner(v=i):
            for j in range(v):
                yield j

        print("inner", list(inner()))

    class Local:
        for k in range(2):
            pass

    return sorted(n for n in vars(Local) if "sl_" in n)


print(outer())

print("comprehension", [x for x in range(3) for y in range(x)])
print("generator expression", sum(x for x in range(4)))
print("lambda", (lambda xs: [x * 2 for x in xs])([1, 2]))
print("end names", sorted(n for n in globals() if "sl_" in n))
