def area(w, h):
    a = w * h
    return a


def perimeter(w, h):
    return 2 * (w + h)
