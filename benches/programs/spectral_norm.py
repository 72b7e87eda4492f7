"""Spectral norm: the largest singular value of the infinite matrix
A[i][j] = 1 / ((i + j) * (i + j + 1) / 2 + i + 1), truncated to n x n.

Power iteration on A^T A, ten rounds of u -> A^T A u; the norm is
sqrt(u.v / v.v). Written with plain lists, nested functions and comprehensions.
"""

import math
import sys


def a(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def times(v):
    """A v"""
    n = len(v)
    return [sum(a(i, j) * v[j] for j in range(n)) for i in range(n)]


def times_transposed(v):
    """A^T v"""
    n = len(v)
    return [sum(a(j, i) * v[j] for j in range(n)) for i in range(n)]


def times_ata(v):
    return times_transposed(times(v))


def spectral_norm(n, rounds=10):
    u = [1.0] * n
    v = u
    for _ in range(rounds):
        v = times_ata(u)
        u = times_ata(v)
    vbv = sum(ue * ve for ue, ve in zip(u, v))
    vv = sum(ve * ve for ve in v)
    return math.sqrt(vbv / vv)


def main(n):
    print(f"{spectral_norm(n):.9f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 280)
