"""Jump matrix corpus: try / except / else / finally."""


def try_handlers(log, e=None, x=0):
    log.append("start")
    try:
        x = int("7")
        log.append(x)
    except ValueError as e:
        log.append("value")
    except (KeyError, IndexError):
        log.append("lookup")
    except ZeroDivisionError as e:
        log.append(("zero", type(e).__name__))
    except:
        log.append("bare")
    else:
        log.append("else")
    finally:
        log.append("finally")
    return log


def try_finally_return(log):
    log.append("start")
    try:
        log.append("body")
        return "from body"
    finally:
        log.append("cleanup")


def try_in_loop(log, i=0):
    log.append("start")
    for i in range(3):
        try:
            if i == 1:
                raise ValueError(i)
            log.append(i)
        except ValueError:
            log.append("caught")
            continue
        finally:
            log.append("f")
    return log


def loop_in_try(log, i=0):
    log.append("start")
    try:
        for i in range(3):
            log.append(i)
            if i == 2:
                raise KeyError(i)
    except KeyError:
        log.append("key")
        while len(log) < 10:
            log.append("pad")
    return log


def nested_try_reraise(log):
    log.append("start")
    try:
        try:
            log.append(1 // 0)
        except ZeroDivisionError:
            log.append("inner handler")
            raise
        finally:
            log.append("inner finally")
    except ArithmeticError:
        log.append("outer handler")
    else:
        log.append("no error")
    return log


def multiline_clauses(log, err=None):
    log.append("start")
    try:
        log.append({}["missing"])
    except (
        KeyError,
        IndexError,
    ) as err:
        log.append("lookup")
    except (TypeError,
            ValueError):
        log.append("type or value")
    return log


log = []
print(try_handlers(log))
log = []
print(try_finally_return(log), log)
log = []
print(try_in_loop(log))
log = []
print(loop_in_try(log))
log = []
print(nested_try_reraise(log))
log = []
print(multiline_clauses(log))
print("END trys.py")
