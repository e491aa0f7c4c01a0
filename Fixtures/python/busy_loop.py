# A child spins on EOF of a closed pipe instead of leaving its loop.
import os
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    print("ready", flush=True)
    while True:
        if os.read(r, 1) == b"":
            continue
    os._exit(0)
os.close(r)
os.close(w)
os.waitpid(pid, 0)
