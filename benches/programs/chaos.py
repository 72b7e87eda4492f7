"""Chaos game: fractals drawn by iterated function systems.

A point jumps again and again through affine maps chosen at random (with fixed
weights); the places it visits fill in the attractor: Barnsley's fern, Sierpinski's
triangle, Heighway's dragon. Some maps are followed by a non-linear "variation" as in
fractal flames. Each picture is rasterised into a small grid and printed as ASCII art
with a checksum. `random` is seeded, so the output is the same on every run.
"""

import math
import random
import sys


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __repr__(self):
        return f"Point({self.x:.6f}, {self.y:.6f})"


class AffineMap:
    """(x, y) -> (a*x + b*y + e, c*x + d*y + f), then an optional variation."""

    def __init__(self, a, b, c, d, e, f, weight, variation=None):
        self.a, self.b, self.c, self.d, self.e, self.f = a, b, c, d, e, f
        self.weight = weight
        self.variation = variation

    def apply(self, p):
        x = self.a * p.x + self.b * p.y + self.e
        y = self.c * p.x + self.d * p.y + self.f
        if self.variation is not None:
            x, y = self.variation(x, y)
        return Point(x, y)


def swirl(x, y):
    r2 = x * x + y * y
    s, c = math.sin(r2), math.cos(r2)
    return x * s - y * c, x * c + y * s


def sinusoidal(x, y):
    return math.sin(x), math.sin(y)


class BoundingBox:
    def __init__(self):
        self.min_x = self.min_y = math.inf
        self.max_x = self.max_y = -math.inf

    def add(self, p):
        if p.x < self.min_x:
            self.min_x = p.x
        if p.x > self.max_x:
            self.max_x = p.x
        if p.y < self.min_y:
            self.min_y = p.y
        if p.y > self.max_y:
            self.max_y = p.y

    def cell(self, p, width, height):
        span_x = (self.max_x - self.min_x) or 1.0
        span_y = (self.max_y - self.min_y) or 1.0
        col = int((p.x - self.min_x) / span_x * (width - 1))
        row = int((self.max_y - p.y) / span_y * (height - 1))
        return row, col


class IteratedFunctionSystem:
    def __init__(self, name, maps):
        self.name = name
        self.maps = maps
        total = sum(m.weight for m in maps)
        self.thresholds = []
        acc = 0.0
        for m in maps:
            acc += m.weight / total
            self.thresholds.append(acc)

    def choose(self, rng):
        r = rng.random()
        for threshold, m in zip(self.thresholds, self.maps):
            if r <= threshold:
                return m
        return self.maps[-1]

    def orbit(self, rng, count, skip=20):
        """Yield `count` points of the attractor, after `skip` points to settle."""
        p = Point(rng.random(), rng.random())
        for i in range(count + skip):
            p = self.choose(rng).apply(p)
            if i >= skip:
                yield p


class Canvas:
    SHADES = " .:-=+*#%@"

    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.counts = [[0] * width for _ in range(height)]

    def plot(self, points):
        box = BoundingBox()
        for p in points:
            box.add(p)
        for p in points:
            row, col = box.cell(p, self.width, self.height)
            self.counts[row][col] += 1
        return box

    def checksum(self):
        total = 0
        for r, row in enumerate(self.counts):
            for c, n in enumerate(row):
                total = (total * 31 + n * (r + 1) + c) % 1_000_000_007
        return total

    def render(self):
        peak = max(max(row) for row in self.counts) or 1
        lines = []
        for row in self.counts:
            shades = [self.SHADES[min(9, int(9 * math.sqrt(n / peak) + 0.999))] if n else " " for n in row]
            lines.append("".join(shades).rstrip())
        return "\n".join(lines)


def systems():
    return [
        IteratedFunctionSystem("fern", [
            AffineMap(0.0, 0.0, 0.0, 0.16, 0.0, 0.0, 0.01),
            AffineMap(0.85, 0.04, -0.04, 0.85, 0.0, 1.6, 0.85),
            AffineMap(0.2, -0.26, 0.23, 0.22, 0.0, 1.6, 0.07),
            AffineMap(-0.15, 0.28, 0.26, 0.24, 0.0, 0.44, 0.07),
        ]),
        IteratedFunctionSystem("sierpinski", [
            AffineMap(0.5, 0.0, 0.0, 0.5, 0.0, 0.0, 1.0),
            AffineMap(0.5, 0.0, 0.0, 0.5, 0.5, 0.0, 1.0),
            AffineMap(0.5, 0.0, 0.0, 0.5, 0.25, 0.5, 1.0),
        ]),
        IteratedFunctionSystem("dragon", [
            AffineMap(0.5, -0.5, 0.5, 0.5, 0.0, 0.0, 1.0),
            AffineMap(-0.5, -0.5, 0.5, -0.5, 1.0, 0.0, 1.0),
        ]),
        IteratedFunctionSystem("flame", [
            AffineMap(0.6, -0.3, 0.3, 0.6, 0.1, 0.0, 2.0, swirl),
            AffineMap(0.4, 0.2, -0.2, 0.4, -0.5, 0.3, 1.0, sinusoidal),
            AffineMap(-0.5, 0.0, 0.0, 0.5, 0.3, -0.4, 1.0),
        ]),
    ]


def main(points_per_system):
    rng = random.Random(20160530)
    for ifs in systems():
        points = list(ifs.orbit(rng, points_per_system))
        canvas = Canvas(48, 16)
        box = canvas.plot(points)
        print(f"== {ifs.name}: {len(points)} points, x in [{box.min_x:.4f}, {box.max_x:.4f}], "
              f"y in [{box.min_y:.4f}, {box.max_y:.4f}], checksum {canvas.checksum()}")
        print(canvas.render())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 90_000)
