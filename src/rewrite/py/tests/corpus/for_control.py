# for/else with break, continue and return; nested loops; loops over the usual iterables.


def search(rows, wanted):
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell is None:
                continue
            if cell == wanted:
                print("found", wanted, "at", i, j)
                break
        else:
            print("not in row", i)
            continue
        print("stop after row", i)
        break
    else:
        print("not found", wanted)
        return None
    return (i, j)


print(search([[1, None, 3], [4, 5, 6]], 5))
print(search([[1, 2], [3]], 9))
print(search([], 1))


def first_even(xs):
    for x in xs:
        if x % 2 == 0:
            return x
    else:
        return "none"


print(first_even(range(1, 10)), first_even([1, 3]), first_even(iter([7, 8])))

total = 0
for k, v in sorted({"b": 2, "a": 1, "c": 3}.items()):
    total += v
    if k == "b":
        continue
    print(k, v)
print("total", total)

for x in []:
    print("never")
else:
    print("empty else")

for a, b in zip("xyz", range(5)):
    print(a, b, end=";")
print()

outer = 0
for i in range(3):
    for j in range(3):
        if j > i:
            break
        outer += 1
    else:
        outer += 100
print("outer", outer)


def countdown(n):
    while n:
        for _ in range(2):
            n -= 1
            if n < 0:
                return "negative"
        else:
            continue
    return n


print(countdown(4), countdown(3))

# The loop variable keeps its last value; a loop that never ran leaves it unbound.
for last in range(4):
    pass
print("last", last)


def unbound():
    for never in ():
        pass
    return never


try:
    unbound()
except UnboundLocalError as e:
    print("UnboundLocalError:", e)


# break inside else binds to the enclosing loop.
for i in range(3):
    for j in ():
        pass
    else:
        if i == 1:
            break
print("i", i)


def loop_in_finally():
    try:
        return "from try"
    finally:
        for k in range(2):
            print("finally loop", k)


print(loop_in_finally())


def continue_in_finally():
    out = []
    for i in range(3):
        try:
            if i == 1:
                raise KeyError(i)
            out.append(i)
        finally:
            continue
    return out


print(continue_in_finally())
