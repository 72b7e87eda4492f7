"""Values that differ from run to run, and a file the program rewrites after reading it."""
import os
import random
import time

path = "travel_inputs_state.txt"
with open(path, "w") as f:
    f.write("first\n")
wall = time.time()
mono = time.monotonic()
rand = random.random()
noise = os.urandom(8).hex()
with open(path) as f:
    content = f.read()
with open(path, "w") as f:
    f.write("second\n")
with open(path) as f:
    after = f.read()
print("read", content.strip(), after.strip())
