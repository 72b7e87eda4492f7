"""Jump matrix corpus: match statements whose patterns span several lines."""


def match_multiline_patterns(log, config=None, host="", port=0):
    config = {"host": "h", "port": 1}
    match config:
        case {
            "host": host,
            "port": int(port),
        }:
            log.append((host, port))
        case (
            [_, _]
            | [_, _, _]
        ):
            log.append("pair or triple")
        case _:
            log.append("other")
    return log


log = []
print(match_multiline_patterns(log))
print("END matches_multiline.py")
