import json
import sys

print(json.dumps({
    "version": sys.version,
    "path": sys.path,
    "prefix": sys.prefix,
    "base_prefix": sys.base_prefix,
    "exec_prefix": sys.exec_prefix,
    "executable": sys.executable,
    "argv": sys.argv,
    "name": __name__,
    "file": __file__,
    "stdout_tty": sys.stdout.isatty(),
}))
