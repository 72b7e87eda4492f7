# Statement shapes whose line events matter: one-line bodies, multi-line headers, statements
# sharing a line, loops that end in every way. (Compared under sys.settrace by the unit tests.)
import contextlib


def one_liners(xs):
    for x in xs: pass
    with contextlib.nullcontext(): pass
    match xs:
        case []: pass
        case _: pass
    for x in xs: break
    total = 0
    for x in xs: total += x; continue
    return total


print(one_liners([1, 2]), one_liners([]))


def multi_line_headers(rows):
    out = []
    for (a,
         b) in zip(rows,
                   rows[1:]):
        out.append(a + b)
    with (contextlib.nullcontext(1) as one,
          contextlib.nullcontext(2) as two):
        out.append(one + two)
    match (rows,
           len(rows)):
        case ([first, *_],
              n) if n > 2:
            out.append(first)
        case {
            "never": _,
        }:
            pass
        case _:
            pass
    return out


print(multi_line_headers([1, 2, 3]), multi_line_headers([1]))


def ends(xs):
    for x in xs:
        if x == 3:
            return "returned"
        elif x == 2:
            continue
        elif x == 4:
            break
    else:
        return "exhausted"
    return "broke"


print(ends([1, 2, 3]), ends([1, 4]), ends([1]))


def while_and_for(n):
    while n > 0:
        for i in range(n):
            if i == 1:
                break
        n -= 1
    return n


print(while_and_for(3))


def with_in_loop_body():
    for i in range(3):
        with contextlib.suppress(KeyError):
            if i == 1:
                raise KeyError(i)
            if i == 2:
                break


with_in_loop_body()


def match_chain(v):
    match v:
        case 1: return "one"
        case 2:
            return "two"
        case 3 | 4:
            x = "three or four"
            return x
    return "none"


print([match_chain(v) for v in range(6)])


def generator():
    for i in range(3):
        with contextlib.nullcontext():
            yield i


print(list(generator()))


class WithLoops:
    for i in range(2):
        pass


def after_loop_same_line(xs):
    for x in xs:
        pass
    else: y = 1
    return y


print(after_loop_same_line([1]))
