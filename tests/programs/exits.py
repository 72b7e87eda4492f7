"""Ends the way argv[1] says, to compare exit statuses with python3."""
import os
import signal
import sys

how = sys.argv[1]
print("how", how, flush=True)
if how == "normal":
    pass
elif how == "code":
    sys.exit(7)
elif how == "message":
    sys.exit("fatal: no luck")
elif how == "raise":
    raise ValueError("boom")
elif how == "interrupt":
    raise KeyboardInterrupt
elif how == "term":
    os.kill(os.getpid(), signal.SIGTERM)
elif how == "atexit":
    import atexit
    atexit.register(lambda: print("atexit ran"))
