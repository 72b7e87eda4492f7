"""An exception raised deep in a call chain, with locals in every frame."""


def parse(text, base):
    digits = len(text)
    return int(text, base)


def convert(items, base):
    done = []
    for item in items:
        done.append(parse(item, base))
    return done


def main():
    data = ["12", "7", "x3", "4"]
    print("start", len(data))
    return convert(data, 10)


main()
