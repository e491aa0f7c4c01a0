"""Getting a verdict on this process's descendants at a test's deadline.

Two ways, in this order:

1. Under `tractor-diag watch --control` (the plugin re-runs pytest that way at
   start-up, see reexec.py): ask watch on the socket named by
   TRACTOR_DIAG_CONTROL. watch is the ancestor of every process here, so it
   may read /proc/PID/syscall, memory and stacks even where Yama's
   ptrace_scope is 1 and we are not root. It also ends the descendants.
2. Otherwise (no socket, or it failed): `tractor-diag snapshot PIDS --tree`
   run directly, which sees everything only as root or with ptrace_scope 0,
   and gives a snapshot without a class; the plugin ends the descendants
   itself. Without tractor-diag at all, only the reason is reported.

Every wait has a bound: the socket has a timeout, the snapshot a
subprocess timeout.
"""

import json
import os
import signal
import socket
import subprocess
import time

CONTROL_ENV = "TRACTOR_DIAG_CONTROL"
# How long watch may take to answer: the snapshot samples for 100 ms and
# takes native and Python stacks of each process (about 1 s for a few
# processes on a loaded 2-core machine).
ANSWER_TIMEOUT_S = 30.0
SNAPSHOT_TIMEOUT_S = 30.0


class Verdict:
    """What the plugin reports for one test."""

    def __init__(self, summary, hang_class=None, text="", run_dir=None, file=None, killed=(), error=None):
        self.summary = summary
        self.hang_class = hang_class
        self.text = text
        self.run_dir = run_dir
        self.file = file
        self.killed = list(killed)
        self.error = error


def descendants(pid):
    """Live descendants of `pid` from /proc/*/stat (zombies left out)."""
    children = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        # The comm field may hold spaces and parentheses: split after the last ')'.
        rest = stat[stat.rfind(")") + 2 :].split()
        if len(rest) < 2 or rest[0] in ("Z", "X"):
            continue
        children.setdefault(int(rest[1]), []).append(int(name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_descendants(pid):
    """SIGSTOP every descendant first (a frozen tree cannot fork), then SIGKILL."""
    killed = []
    for _ in range(4):
        live = descendants(pid)
        if not live:
            break
        for p in live:
            _signal(p, signal.SIGSTOP)
        for p in sorted(set(live + descendants(pid))):
            _signal(p, signal.SIGKILL)
            killed.append(p)
        time.sleep(0.05)  # bounded: at most 4 rounds
    return sorted(set(killed))


def _signal(pid, sig):
    try:
        os.kill(pid, sig)
    except OSError:
        pass


def ask_watch(path, pid, label, kill, timeout_ms):
    """One request on watch's control socket; a Verdict, or None with the reason."""
    req = {"op": "diagnose", "pid": pid, "exclude": [pid], "kill": bool(kill), "label": label, "timeoutMs": timeout_ms}
    deadline = time.monotonic() + ANSWER_TIMEOUT_S
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(ANSWER_TIMEOUT_S)
            s.connect(path)
            s.sendall((json.dumps(req) + "\n").encode())
            data = b""
            while b"\n" not in data:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None, "watch did not answer within %.0f s" % ANSWER_TIMEOUT_S
                s.settimeout(left)
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                data += chunk
    except (OSError, socket.timeout) as e:
        return None, "control socket %s: %s" % (path, e)
    try:
        reply = json.loads(data.split(b"\n", 1)[0].decode())
    except ValueError:
        return None, "watch's reply is not JSON: %r" % data[:200]
    if not reply.get("ok"):
        return None, "watch refused: %s" % reply.get("error")
    return (
        Verdict(
            reply.get("summary") or "no summary",
            hang_class=reply.get("class"),
            text=reply.get("text") or "",
            run_dir=reply.get("runDir"),
            file=reply.get("file"),
            killed=reply.get("killed") or [],
        ),
        None,
    )


def snapshot_directly(diag_bin, pid, kill, why):
    """No watch to ask: a snapshot of the descendants (no class), then the kill."""
    below = descendants(pid)
    text = ""
    if not below:
        note = "nothing runs below pytest (pid %d): the test itself is what waits" % pid
    elif diag_bin is None:
        note = "tractor-diag not found (--diag-bin or PATH): no snapshot"
    else:
        try:
            r = subprocess.run(
                [diag_bin, "snapshot", "--tree", str(pid)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=SNAPSHOT_TIMEOUT_S,
                stdin=subprocess.DEVNULL,
            )
            text = r.stdout.decode("utf-8", "replace")
            note = "a snapshot without a verdict (as root or with ptrace_scope 0 it shows every process)"
        except (OSError, subprocess.TimeoutExpired) as e:
            note = "tractor-diag snapshot failed: %s" % e
    killed = kill_descendants(pid) if kill else []
    summary = "no verdict (%s); %s" % (why, note)
    return Verdict(summary, text=text, killed=killed, error=why)


def diagnose(diag_bin, pid, label, kill, timeout_ms):
    """A Verdict on `pid`'s descendants; never raises, never waits unbounded."""
    path = os.environ.get(CONTROL_ENV)
    if path:
        v, why = ask_watch(path, pid, label, kill, timeout_ms)
        if v is not None:
            return v
    else:
        why = "pytest is not running under `tractor-diag watch --control`"
    return snapshot_directly(diag_bin, pid, kill, why)
