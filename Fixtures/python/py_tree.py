# Six Python processes: a root that waits for its first child and five
# children parked in child_waits (Event.wait). Prints "ready ROOT KIDS..."
# once every child has said it is up (handshake on their stdout, no sleeps).
import os
import subprocess
import sys
import threading


def child_waits():
    threading.Event().wait()


def root():
    kids = [subprocess.Popen([sys.executable, __file__, "child"], stdout=subprocess.PIPE) for _ in range(5)]
    for k in kids:
        k.stdout.readline()
    print("ready", os.getpid(), *[k.pid for k in kids], flush=True)
    kids[0].wait()


if sys.argv[1:] == ["child"]:
    print("up", flush=True)
    child_waits()
else:
    root()
