# The jump matrix's module-level subject (run by module_main.py, which gives every name a value).
log.append("start")
for item in range(3):
    if item == 1:
        continue
    log.append(item)
else:
    log.append("for else")
with manager("m") as handle:
    log.append(handle)
try:
    log.append(1 // zero)
except ZeroDivisionError:
    log.append("zero")
finally:
    log.append("finally")
while count < 2:
    count += 1
match shape:
    case (x, y):
        log.append(x + y)
    case _:
        log.append("other")
squares = [
    n * n
    for n in range(3)
]
total = sum(squares, count)
log.append(
    (
        "module body",
        total,
    )
)
