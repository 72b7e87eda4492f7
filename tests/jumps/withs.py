"""Jump matrix corpus: with statements."""

import io


class _Mgr:
    def __init__(self, log, name):
        self.log = log
        self.name = name

    def __enter__(self):
        self.log.append(("enter", self.name))
        return self.name

    def __exit__(self, *exc):
        self.log.append(("exit", self.name))
        return False


class _Suppress:
    def __init__(self, log):
        self.log = log

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.log.append(("suppressed", exc[0] is not None))
        return True


def with_single(log, v=None):
    log.append("start")
    with _Mgr(log, "a") as v:
        log.append(v)
        log.append("body")
    log.append("after")
    return log


def with_multiple_items(log, a=None, b=None):
    log.append("start")
    with _Mgr(log, "a") as a, _Mgr(log, "b") as b:
        log.append((a, b))
    with (
        _Mgr(log, "c") as a,
        _Mgr(log, "d"),
    ):
        log.append(a)
    return log


def with_nested(log, a=None, b=None):
    log.append("start")
    with _Mgr(log, "outer") as a:
        log.append(a)
        with _Mgr(log, "inner") as b:
            log.append(b)
        log.append("between")
    return log


def with_in_loop(log, i=0, m=None):
    log.append("start")
    for i in range(2):
        with _Mgr(log, i) as m:
            if i == 1:
                continue
            log.append(m)
    return log


def with_suppress_and_return(log, f=None):
    log.append("start")
    with _Suppress(log):
        log.append("before raise")
        raise KeyError("suppressed")
    with io.StringIO() as f:
        f.write("text")
        return f.getvalue()


log = []
print(with_single(log))
log = []
print(with_multiple_items(log))
log = []
print(with_nested(log))
log = []
print(with_in_loop(log))
log = []
print(with_suppress_and_return(log), log)
print("END withs.py")
