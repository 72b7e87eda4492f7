def area(width, height):
    # The bug the failing test finds: one too many.
    return width * height + 1
