def describe(average, width):
    label = "wide" if width > 3 else "narrow"
    return f"mean {average:.2f}, {label} ({width})"
