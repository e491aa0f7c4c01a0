# The stdlib multiprocessing fork server kept busy by a client that connects
# and never sends (the shape of tractor's mp_forkserver hang).
#
# The fork server serves one connection at a time: after accept() it reads
# that client's request (fds over SCM_RIGHTS) with a blocking recvmsg before
# it serves anyone else, and it reaps its children (writing their exit status
# to each client's status pipe) only from its own select loop. So:
#
#   1. the root starts "early" through the server; early waits on an Event;
#   2. a separate client process (this file with "client ADDRESS") connects
#      to the server's listening socket and then waits for a signal, never
#      sending: the server blocks in recvmsg on that connection;
#   3. the root sets the Event: early exits and stays a zombie under the
#      server (no one reaps it);
#   4. a root thread joins early: poll() on early's status pipe, whose write
#      end only the server holds;
#   5. the root starts "late" from its main thread: connect() succeeds (the
#      listen backlog), sendmsg queues the request, then read() of the pid
#      from a status pipe whose write end is in flight inside that queued
#      request (SCM_RIGHTS), held by no process. The root prints "ready"
#      just before.
#
# Tree: root -> fork server -> early (zombie); root -> resource tracker;
# root -> client.
import multiprocessing as mp
import multiprocessing.forkserver as forkserver
import signal
import socket
import subprocess
import sys
import threading
import time


def wait_then_exit(ev) -> None:
    ev.wait()


def noop() -> None:
    pass


def client(address: str) -> None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(address)
    print("connected", flush=True)
    signal.pause()


RECVMSG = 47  # x86_64 syscall number, as /proc/PID/syscall shows it


def wait_in_recvmsg(pid: int, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/syscall") as f:
            if f.read().split(" ", 1)[0] == str(RECVMSG):
                return
        time.sleep(0.001)
    raise SystemExit(f"fork server {pid} never blocked in recvmsg")


def root() -> None:
    ctx = mp.get_context("forkserver")
    ev = ctx.Event()
    early = ctx.Process(target=wait_then_exit, args=(ev,), name="early")
    early.start()

    address = forkserver._forkserver._forkserver_address
    c = subprocess.Popen([sys.executable, __file__, "client", address],
                         stdout=subprocess.PIPE, text=True)
    assert c.stdout.readline().strip() == "connected"
    # connect() returns from the listen backlog, before the server accepts.
    # Had early exited before the server took our client, the server would
    # reap it first: wait (bounded) until the server sits in recvmsg.
    wait_in_recvmsg(forkserver._forkserver._forkserver_pid)

    ev.set()
    joiner = threading.Thread(target=early.join, name="join-early")
    joiner.start()

    late = ctx.Process(target=noop, name="late")
    print("ready", flush=True)
    late.start()
    late.join()
    joiner.join()


if __name__ == "__main__":
    if sys.argv[1:2] == ["client"]:
        client(sys.argv[2])
    else:
        root()
