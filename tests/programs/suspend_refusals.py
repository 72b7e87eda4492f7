"""Stops where a suspend must be refused: a socket in a local, a lock held in a global, a
callback that sorted() (C code) is running."""
import socket
import threading

LOCK = threading.Lock()


def talk():
    conn = socket.socket()
    n = 1
    print("made", n)
    conn.close()
    return n


def by_key(x):
    return -x


def main():
    talk()
    with LOCK:
        print("locked")
    items = sorted([3, 1, 2], key=by_key)
    print(items)
    print("done")


main()
