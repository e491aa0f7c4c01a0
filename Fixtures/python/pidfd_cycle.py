# P waits on C's pidfd (poll), while C reads a socket whose peer end P holds
# and never writes to: a cycle P -> C -> P through a pidfd and a socket.
import os, select, socket
a, b = socket.socketpair()
pid = os.fork()
if pid == 0:
    a.close()
    print("ready", flush=True)
    b.recv(1)
    os._exit(0)
b.close()
fd = os.pidfd_open(pid)
p = select.poll()
p.register(fd, select.POLLIN)
p.poll()
