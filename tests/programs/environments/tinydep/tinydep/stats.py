def mean(values):
    total = sum(values)
    count = len(values)
    return total / count


def spread(values):
    low = min(values)
    high = max(values)
    return high - low
