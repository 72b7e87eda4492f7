"""Runs for a few million ticks: checkpoints are taken all along the way."""
import sys


def step(value, i):
    return (value * 31 + i) % 1000003


def main(rounds):
    value = 1
    i = 0
    while i < rounds:
        value = step(value, i)
        i += 1
    return value


rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
print("value", main(rounds))
