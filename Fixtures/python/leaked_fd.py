# A child reads its pipe until EOF, but kept its own copy of the write end
# across fork: EOF never comes. The parent waits for the child.
import os
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    print("ready", flush=True)
    os.read(r, 1)
    os._exit(0)
os.close(r)
os.close(w)
os.waitpid(pid, 0)
