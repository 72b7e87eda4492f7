"""Rewrites a few megabytes again and again: each checkpoint holds its own copy of them."""
import sys


def churn(buf, rounds):
    total = 0
    r = 0
    while r < rounds:
        buf[:] = bytes([r % 251]) * len(buf)
        total += buf[r % len(buf)]
        r += 1
    return total


rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 400
buf = bytearray(4 << 20)
print("total", churn(buf, rounds))
