"""Builds a wheel of the package directory argv[1] (name argv[2], version argv[3]) into argv[4],
with nothing but the standard library: pip installs it offline with no build backend, on every
Python version (3.12's venvs have no setuptools)."""
import base64
import hashlib
import os
import sys
import zipfile

source, name, version, out_dir = sys.argv[1:5]
dist = f"{name}-{version}.dist-info"
files = {}
for root, _, names in os.walk(os.path.join(source, name)):
    for n in sorted(names):
        if n.endswith(".py"):
            path = os.path.join(root, n)
            with open(path, "rb") as f:
                files[os.path.relpath(path, source)] = f.read()
files[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: make_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
record = []
for arc, data in files.items():
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{arc},sha256={digest},{len(data)}")
record.append(f"{dist}/RECORD,,")
files[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
wheel = os.path.join(out_dir, f"{name}-{version}-py3-none-any.whl")
with zipfile.ZipFile(wheel, "w") as z:
    for arc, data in files.items():
        z.writestr(arc, data)
print(wheel)
