"""random, seeded two ways, and a generator consumed by a for loop.

With a fixed seed the numbers are the same as python3's. Seeded from the OS, they differ from
run to run, so the program checks itself: it keeps the generator's first state and, at the end,
draws the same numbers again from it; a resume that lost random's state would not match."""
import random


def evens(limit):
    n = 0
    while n < limit:
        yield n
        n += 2


random.seed(2024)
picks = []
for i in range(15):
    picks.append(random.randint(1, 1000))
    if i % 5 == 4:
        print("fixed", picks[-5:])
deck = list(range(10))
random.shuffle(deck)
print("deck", deck, round(random.random(), 6))

random.seed()
start = random.getstate()
drawn = []
for i in range(20):
    drawn.append(random.random())
    if i % 7 == 6:
        print("drew", len(drawn))
again = random.Random()
again.setstate(start)
print("os-seeded draws replay:", drawn == [again.random() for _ in drawn])

total = 0
for e in evens(16):
    total += e * e
print("evens", total)
for i in range(5):
    total += i
print("end", total, random.randint(0, 0))
