# A server that serves one client at a time, stuck reading a client that
# connected and sends nothing; another client is blocked in connect().
import os, socket, time
name = "\0tractor-diag-serial-%d" % os.getpid()
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(name)
srv.listen(0)
idle = os.fork()
if idle == 0:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(name)
    time.sleep(3600)           # holds its connection, sends nothing
    os._exit(0)
conn, _ = srv.accept()          # the idle client
# fill the backlog so the next connect blocks
fillers = []
for _ in range(2):
    f = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    f.setblocking(False)
    try:
        f.connect(name)
    except BlockingIOError:
        pass
    fillers.append(f)
waiter = os.fork()
if waiter == 0:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    print("ready", flush=True)
    c.connect(name)             # blocks: backlog full, server not accepting
    os._exit(0)
conn.recv(1)                    # serves the idle client, forever
