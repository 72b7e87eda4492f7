"""A value goes wrong long before the program crashes on it."""


def load():
    return {"count": 3, "sum": 12}


def normalise(stats):
    stats["sum"] = stats["sum"] * 2
    stats["count"] = stats["count"] - 3
    return stats


def describe(stats):
    label = "stats"
    for key in stats:
        label += " " + key
    return label


def average(stats):
    return stats["sum"] / stats["count"]


def main():
    stats = load()
    seen = []
    stats = normalise(stats)
    seen.append("normalised")
    text = describe(stats)
    seen.append(text)
    print(text)
    return average(stats)


main()
