"""Jumps CPython refuses, that sleepy makes."""


class Resource:
    def __init__(self, name):
        self.name = name
        self.open = False

    def __enter__(self):
        self.open = True
        print("enter", self.name)
        return self

    def __exit__(self, kind, value, tb):
        self.open = False
        print("exit", self.name, kind.__name__ if kind else None)
        return False


def collect(items):
    seen = []
    for item in items:
        seen.append(item * 10)
    done = len(seen)
    with Resource("r") as res:
        seen.append(res.open)
    after = "after"
    try:
        value = int("42")
    except ValueError as err:
        seen.append(("bad", str(err)))
    match value:
        case 0:
            seen.append("zero")
        case int(n) if n > 10:
            seen.append(("big", n))
        case _:
            seen.append("other")
    return seen, done, after


def outer():
    return collect([1, 2, 3])


print(outer())
