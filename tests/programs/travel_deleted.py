# Reads a file, then deletes it.
import os
with open("travel_deleted_state.txt", "w") as f:
    f.write("saved")
n = 0
with open("travel_deleted_state.txt") as f:
    data = f.read()
os.remove("travel_deleted_state.txt")
print(data)
