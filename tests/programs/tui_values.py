"""Values for the TUI's Variables pane: big, nested, and ones whose repr misbehaves."""


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y


class Loud:
    def __repr__(self):
        raise RuntimeError("no repr for you")


class Slow:
    def __repr__(self):
        import time

        time.sleep(5)
        return "slow"


def main():
    big = list(range(100_000))
    nested = {"a": [1, 2, {"deep": Point(1, 2)}], "b": (3, 4)}
    text = "tab\there\x1b[31mred\nnewline" + "x" * 500
    loud = Loud()
    slow = Slow()
    count = 0
    count += 1
    count += 1
    print("counted", count)
    return big, nested, text, loud, slow, count


main()
