# The capture-pipe hang: a child writes more than a pipe holds to a pipe its
# parent never reads, while the parent waits for the child to exit.
import os
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    print("ready", flush=True)
    os.write(w, b"Traceback (most recent call last): ...\n" * 8000)
    os._exit(0)
os.close(w)
os.waitpid(pid, 0)
