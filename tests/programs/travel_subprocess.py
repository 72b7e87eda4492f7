"""Runs a subprocess: time travel turns itself off, forward debugging goes on."""
import subprocess
import sys

count = 1
out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True)
answer = out.stdout.strip()
count += 1
print("answer", answer, count)
