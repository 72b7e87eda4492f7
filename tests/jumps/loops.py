"""Jump matrix corpus: for and while loops."""


def _squares(n):
    for k in range(n):
        yield k * k


def for_else_break_continue(log, total=0, i=0):
    total = 0
    for i in range(4):
        if i == 1:
            continue
        if i == 3:
            break
        total += i
        log.append(i)
    else:
        log.append("no break")
    log.append(("after", total))
    return total


def nested_for(log, i=0, j=0):
    log.append("start")
    for i in range(3):
        for j in range(i + 1):
            if j == 1:
                break
            log.append((i, j))
        else:
            log.append(("inner done", i))
        log.append(("outer", i))
    return len(log)


def for_over_generators(log, item=0):
    log.append("start")
    for item in _squares(3):
        log.append(item)
    for item in (x + 1 for x in _squares(2)):
        log.append(item)
    return log


def for_multiline_header(log, a=0, b=""):
    log.append("start")
    for a, b in zip(
        range(3),
        "xyz",
    ):
        log.append(f"{a}{b}")
    return log


def for_return_inside(log, x=0):
    log.append("start")
    for x in [5, 6, 7]:
        if x == 6:
            return x
        log.append(x)
    else:
        return None


def while_else(log, n=0):
    n = 0
    while n < 3:
        n += 1
        if n == 5:
            break
        log.append(n)
    else:
        log.append("while else")
    while True:
        n += 1
        if n > 6:
            break
        if n % 2:
            continue
        log.append(n)
    return n


def while_with_for_inside(log, n=0, c=""):
    n = 0
    while n < 2:
        n += 1
        for c in "ab":
            if c == "b":
                continue
            log.append((n, c))
    return n


log = []
print(for_else_break_continue(log), log)
log = []
print(nested_for(log), log)
log = []
print(for_over_generators(log))
log = []
print(for_multiline_header(log))
log = []
print(for_return_inside(log), log)
log = []
print(while_else(log), log)
log = []
print(while_with_for_inside(log), log)
print("END loops.py")
