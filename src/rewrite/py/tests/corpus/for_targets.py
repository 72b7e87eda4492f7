# Loop targets that are not plain names: attributes, subscripts, tuples, starred, nested.


class Box:
    pass


box = Box()
for box.value in range(3):
    print("attr", box.value)

d = {}
for d["k"] in "ab":
    print("subscript", d)

lst = [0, 0]
for lst[1] in (5, 6):
    pass
print("list slot", lst)

for a, (b, c) in [(1, (2, 3)), (4, (5, 6))]:
    print("nested", a, b, c)

for first, *rest in ["abc", "de", "f"]:
    print("starred", first, rest)

for *init, last in [(1, 2, 3)]:
    print("starred front", init, last)


def in_function():
    out = []
    for (x, y), z in [((1, 2), 3)]:
        out.append(x + y + z)
    return out


print(in_function())


class Slotted:
    __slots__ = ("v",)


s = Slotted()
for s.v in [1, 2]:
    pass
print("slot", s.v)


class ReadOnly:
    @property
    def v(self):
        return 1


try:
    for ReadOnly().v in [1]:
        pass
except AttributeError as e:
    print("AttributeError:", e)

for x, y in [(1, 2), (3,)]:
    print(x, y)
