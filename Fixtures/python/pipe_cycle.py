# Two processes, each waiting to read what the other never sends.
import os
a_r, a_w = os.pipe()
b_r, b_w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(a_w); os.close(b_r)
    print("ready", flush=True)
    os.read(a_r, 1)
    os._exit(0)
os.close(a_r); os.close(b_w)
os.read(b_r, 1)
