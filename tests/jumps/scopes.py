"""Jump matrix corpus: closures, nonlocal and global names, nested functions, a class body."""

COUNTER = 0
rows = []
_r = 0


class _Mgr:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        self.log.append("enter")

    def __exit__(self, *exc):
        self.log.append("exit")


def closure_owner(log, total=0, i=0, bump=abs):
    log.append("start")
    total = 0

    def bump(k):
        nonlocal total
        total += k

    for i in range(3):
        bump(i)
    with _Mgr(log):
        bump(10)
    log.append(total)
    return bump


def make_counter(log, count=0, counter=abs):
    log.append("start")

    def counter(step=2, i=0):
        nonlocal count
        log.append("counter start")
        for i in range(step):
            count += 1
        try:
            log.append(count // (count - count))
        except ZeroDivisionError:
            log.append(("count", count))
        return count

    return counter


def use_global(log):
    global COUNTER
    log.append("start")
    while COUNTER < 3:
        COUNTER += 1
    match COUNTER:
        case 3:
            log.append("three")
        case _:
            log.append("other")
    return COUNTER


class Table:
    rows = []
    for _r in range(2):
        rows.append(_r)
    try:
        rows.append(1 // 0)
    except ZeroDivisionError:
        rows.append("zero")
    with _Mgr(rows):
        rows.append("in with")


log = []
print(closure_owner(log)(1), log)
log = []
print(make_counter(log)(2), log)
log = []
print(use_global(log), log)
print(getattr(Table, "rows", None))
print("END scopes.py")
