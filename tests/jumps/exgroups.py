"""Jump matrix corpus: except* (exception groups)."""


def except_star(log, eg=None):
    log.append("start")
    try:
        raise ExceptionGroup("two", [ValueError(1), TypeError(2)])
    except* ValueError as eg:
        log.append(("value", len(eg.exceptions)))
    except* TypeError:
        log.append("type")
    except* (KeyError, IndexError):
        log.append("lookup")
    else:
        log.append("else")
    finally:
        log.append("finally")
    return log


def except_star_in_loop(log, i=0):
    log.append("start")
    for i in range(2):
        try:
            if i:
                raise ExceptionGroup("one", [OSError(i)])
            log.append(i)
        except* OSError:
            log.append("os")
    return log


def except_star_nested(log, group=None):
    log.append("start")
    try:
        try:
            raise ExceptionGroup("g", [KeyError("k"), ValueError("v")])
        except* KeyError:
            log.append("inner key")
    except* ValueError as group:
        log.append(("outer value", type(group).__name__))
    return log


log = []
print(except_star(log))
log = []
print(except_star_in_loop(log))
log = []
print(except_star_nested(log))
print("END exgroups.py")
