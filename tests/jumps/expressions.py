"""Jump matrix corpus: comprehensions, lambdas and calls that span lines."""


def _combine(a, b=0):
    return a * 10 + b


def comprehensions(log, xs=(1, 2, 3), squares=None, evens=None, total=0, pairs=None):
    log.append("start")
    squares = [x * x for x in xs]
    evens = {
        x: x * 2
        for x in xs
        if x % 2 == 0
    }
    total = sum(
        y
        for y in xs
    )
    pairs = [
        (a, b)
        for a in xs
        for b in xs
        if a < b
    ]
    log.append((squares, evens, total, pairs, {c for c in "aa"}))
    return total


def lambdas(log, items=(3, 1, 2), key=None, ordered=()):
    log.append("start")
    key = lambda v: -v
    ordered = sorted(items, key=lambda v: (
        v % 2,
        v,
    ))
    log.append(list(map(lambda v: v + 1, ordered)))
    log.append(sorted(items, key=key))
    return log


def multiline_calls(log, a=1, b=2, result=0):
    log.append("start")
    log.append(
        _combine(
            a,
            b=b,
        )
    )
    result = _combine(a,
                      b)
    log.append(result)
    if (a < b
            and result > 0):
        log.append("both")
    result = (
        a + b
    )
    log.append(result)
    return (
        log
    )


log = []
print(comprehensions(log), log)
log = []
print(lambdas(log))
log = []
print(multiline_calls(log))
print("END expressions.py")
