"""N-queens: solve the N-queens puzzle by brute force over permutations.

A placement is a permutation `cols` (queen i sits in row i, column cols[i]), so rows
and columns never clash; a permutation is a solution when no two queens share a
diagonal. The permutations come from a recursive generator, and the filter is a
generator expression.
"""

import sys


def permutations(items):
    """Every ordering of `items`, in lexicographic order of positions."""
    if len(items) <= 1:
        yield tuple(items)
        return
    for i, first in enumerate(items):
        rest = items[:i] + items[i + 1:]
        for tail in permutations(rest):
            yield (first,) + tail


def is_solution(cols):
    n = len(cols)
    return (len({c + row for row, c in enumerate(cols)}) == n
            and len({c - row for row, c in enumerate(cols)}) == n)


def solve(n):
    return (cols for cols in permutations(list(range(n))) if is_solution(cols))


def symmetries(cols):
    """The eight images of a placement under the board's rotations and reflections."""
    n = len(cols)
    images = []
    current = tuple(cols)
    for _ in range(4):
        images.append(current)
        images.append(tuple(n - 1 - c for c in current))
        rotated = [0] * n
        for row, col in enumerate(current):
            rotated[col] = n - 1 - row
        current = tuple(rotated)
    return images


def draw(cols):
    n = len(cols)
    return "\n".join("".join("Q" if c == col else "." for c in range(n)) for col in cols)


def main(n):
    solutions = list(solve(n))
    fundamental = {min(symmetries(s)) for s in solutions}
    print(f"{n} queens: {len(solutions)} solutions, {len(fundamental)} up to rotation and reflection")
    print(f"first: {solutions[0]}")
    print(f"last:  {solutions[-1]}")
    print(draw(solutions[0]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
