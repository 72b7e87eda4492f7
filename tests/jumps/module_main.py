"""Runs module_body.py, the jump matrix's module-level subject.

A jump from the first line of a module skips its assignments, so every name the module body
reads is first given a value here, in builtins (a module's names fall back to builtins until the
module binds them).
"""

import builtins


class _Manager:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        builtins.log.append(("enter", self.name))
        return self.name

    def __exit__(self, *exc):
        builtins.log.append(("exit", self.name))


defaults = dict(
    log=[],
    manager=_Manager,
    zero=0,
    count=0,
    shape=(1, 2),
    item=0,
    handle=None,
    x=0,
    y=0,
    squares=(),
    total=0,
)
for name, value in defaults.items():
    setattr(builtins, name, value)

import module_body  # noqa: E402

print(getattr(module_body, "total", None), builtins.log)
print("END module_main.py")
