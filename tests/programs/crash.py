def inner(items):
    total = 0
    for x in items:
        total += 10 // x
    return total


def outer():
    data = [5, 2, 0, 1]
    return inner(data)


print("start")
outer()
print("never")
