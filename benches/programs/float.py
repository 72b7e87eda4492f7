"""Float: many small objects doing floating-point arithmetic.

Points are built from trigonometric functions of their index, normalised to unit
length, and then reduced to the component-wise maximum. The work is mostly attribute
access, float arithmetic, method calls and object allocation.
"""

import math
import sys


class Point:
    __slots__ = ("x", "y", "z")

    def __init__(self, i):
        angle = i * 0.001
        self.x = math.sin(angle) * 3.0
        self.y = math.cos(angle) * 2.0 + math.sin(angle * 0.5)
        self.z = (self.x * self.x) / 2.0 - angle

    def norm(self):
        return math.sqrt(self.x * self.x + self.y * self.y + self.z * self.z)

    def normalize(self):
        n = self.norm()
        if n:
            self.x /= n
            self.y /= n
            self.z /= n
        return self

    def maximize(self, other):
        self.x = self.x if self.x > other.x else other.x
        self.y = self.y if self.y > other.y else other.y
        self.z = self.z if self.z > other.z else other.z
        return self

    def __repr__(self):
        return f"<Point: x={self.x:.12f}, y={self.y:.12f}, z={self.z:.12f}>"


def maximize(points):
    best = points[0]
    for p in points[1:]:
        best = best.maximize(p)
    return best


def centroid(points):
    n = len(points)
    return (
        sum(p.x for p in points) / n,
        sum(p.y for p in points) / n,
        sum(p.z for p in points) / n,
    )


def benchmark(count):
    points = [Point(i) for i in range(count)]
    for p in points:
        p.normalize()
    c = centroid(points)
    return maximize(points), c


def main(count, rounds):
    for r in range(rounds):
        best, c = benchmark(count + 7_919 * r)
        print(f"round {r}: {best!r} centroid=({c[0]:.9f}, {c[1]:.9f}, {c[2]:.9f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, 5)
