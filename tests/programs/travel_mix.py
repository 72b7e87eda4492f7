"""Loops, recursion and exceptions, for going back and forth in time."""


def fact(n):
    if n <= 1:
        return 1
    sub = fact(n - 1)
    return n * sub


def risky(x):
    if x % 3 == 0:
        raise ValueError(x)
    return x * 2


def main():
    total = 0
    log = []
    for i in range(1, 7):
        try:
            value = risky(i)
        except ValueError as err:
            value = -i
            log.append(str(err))
        total += value
    k = 0
    while k < 3:
        total += fact(k + 2)
        k += 1
    print("total", total, log)
    return total


result = main()
print("done", result)
