"""Jump matrix corpus: generators (jumps between yields)."""


def _inner(n):
    for i in range(n):
        yield i


def gen_between_yields(log, n=0, k=0):
    log.append("start")
    n = 1
    yield n
    n += 1
    yield n
    for k in range(2):
        yield k * 10
    log.append("gen end")


def gen_with_try(log, x=0, got=None):
    log.append("start")
    try:
        got = yield "first"
        log.append(("got", got))
        yield from _inner(2)
    finally:
        log.append("gen finally")
    while x < 2:
        x += 1
        yield x


log = []
print(list(gen_between_yields(log)), log)
log = []
g = gen_with_try(log)
print(next(g), g.send("sent"), list(g), log)
print("END generators.py")
