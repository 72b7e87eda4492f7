"""Fannkuch-redux: pancake flips over every permutation of 1..n.

For each permutation, flip (reverse) the prefix whose length is the first element
until the first element is 1, and count the flips. Report the largest count and a
checksum (flip counts added for even permutation indices, subtracted for odd ones),
visiting the permutations in the order of the benchmarks-game definition (each next
permutation rotates a prefix, driven by a factorial-base counter).
"""

import sys


def permutations_in_rotation_order(n):
    """Yield (index, permutation) for all n! permutations of range(n)."""
    perm = list(range(n))
    counters = list(range(1, n + 1))
    index = 0
    while True:
        yield index, perm
        index += 1
        r = 1
        while True:
            if r == n:
                return
            first = perm[0]
            perm[:r] = perm[1:r + 1]
            perm[r] = first
            counters[r] -= 1
            if counters[r] > 0:
                break
            counters[r] = r + 1
            r += 1


def count_flips(perm):
    if perm[0] == 0:
        return 0
    p = perm[:]
    flips = 0
    k = p[0]
    while k:
        p[:k + 1] = p[k::-1]
        flips += 1
        k = p[0]
    return flips


def fannkuch(n):
    checksum = 0
    max_flips = 0
    for index, perm in permutations_in_rotation_order(n):
        flips = count_flips(perm)
        if flips > max_flips:
            max_flips = flips
        checksum += -flips if index % 2 else flips
    return checksum, max_flips


def main(n):
    checksum, max_flips = fannkuch(n)
    print(checksum)
    print(f"Pfannkuchen({n}) = {max_flips}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
