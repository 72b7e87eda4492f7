"""Jump matrix corpus: match statements."""


class _Point:
    __match_args__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def match_patterns(log, subject=None, x=0, y=0, rest=(), value=None, other=()):
    log.append("start")
    for subject in [1, "two", [3, 4, 5], {"k": 6}, _Point(0, 200), _Point(7, 8), (9, 10), 11, None]:
        match subject:
            case 1:
                log.append("one")
            case "two" | "deux":
                log.append("two")
            case [x, y, *rest]:
                log.append(("seq", x, y, len(rest)))
            case {"k": value, **other}:
                log.append(("map", value, len(other)))
            case _Point(x=0, y=y) if y > 100:
                log.append(("guarded", y))
            case _Point(x, y):
                log.append(("point", x, y))
            case (9, x) | (x, 9):
                log.append(("or capture", x))
            case int(x) if x > 10:
                log.append(("big int", x))
            case other:
                log.append(("capture", other))
    return log


def match_command(log, command="go north", direction=""):
    log.append("start")
    match command.split():
        case ["go", direction]:
            log.append(direction)
        case ["quit"]:
            log.append("quit")
        case _:
            log.append("unknown")
    return log


log = []
print(match_patterns(log))
log = []
print(match_command(log))
print("END matches.py")
