import ctypes


def boom():
    print("about to crash", flush=True)
    ctypes.string_at(0)


boom()
