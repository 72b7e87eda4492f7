"""Recursion that accumulates state: a memo dict, a list of visited paths passed down, and a
counter in a global."""

calls = 0
memo = {}


def fib(n):
    global calls
    calls += 1
    if n in memo:
        return memo[n]
    if n < 2:
        result = n
    else:
        result = fib(n - 1) + fib(n - 2)
    memo[n] = result
    return result


def paths(node, tree, trail, found):
    trail.append(node)
    kids = tree.get(node, [])
    if not kids:
        found.append("/".join(trail))
    for kid in kids:
        paths(kid, tree, trail, found)
    trail.pop()
    return len(found)


def hanoi(n, src, dst, via, moves):
    if n == 0:
        return 0
    hanoi(n - 1, src, via, dst, moves)
    moves.append((src, dst))
    hanoi(n - 1, via, dst, src, moves)
    return len(moves)


for n in (5, 12, 20):
    print("fib", n, fib(n), "calls", calls)
tree = {"a": ["b", "c"], "b": ["d", "e"], "c": ["f"], "e": ["g", "h"]}
found = []
print("paths", paths("a", tree, [], found), found)
moves = []
print("hanoi", hanoi(5, "L", "R", "M", moves), moves[:4], moves[-2:])
print("memo", sorted(memo.items())[-3:])
