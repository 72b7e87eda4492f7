"""A small program with classes, closures, recursion, exceptions and a sibling import."""
import geometry


class Counter:
    def __init__(self, start):
        self.n = start

    def bump(self, by=1):
        self.n += by
        return self.n


def make_scaler(k):
    def scale(x):
        return x * k
    return scale


def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)


def safe_div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        return None


def main():
    c = Counter(5)
    c.bump()
    c.bump(by=10)
    triple = make_scaler(3)
    t = triple(7)
    f = fact(5)
    q = safe_div(1, 0)
    area = geometry.area(3, 4)
    print("results", c.n, t, f, q, area)
    return t + f


if __name__ == "__main__":
    total = main()
    print("total", total)
