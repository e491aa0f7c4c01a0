# Two processes on one socketpair, each blocked reading what the other never
# sends; nothing is queued either way. Each holds only its own end.
# The child prints "ready" before it reads.
import os
import socket

a, b = socket.socketpair()
pid = os.fork()
if pid == 0:
    a.close()
    print("ready", flush=True)
    b.recv(1)
    os._exit(0)
b.close()
a.recv(1)
os.waitpid(pid, 0)
