def work(values):
    acc = []
    for v in values:
        acc.append(v * 2)
    breakpoint()
    return acc


result = work([1, 2, 3])
print(result)
