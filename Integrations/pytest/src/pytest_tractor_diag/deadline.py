"""A deadline per test: a timer thread, and a real signal to the main thread.

Why a thread and not SIGALRM (pytest-timeout's "signal" method): there is
one ITIMER_REAL and one SIGALRM handler per process, and pytest-timeout
uses both; a second user would silently replace the first. So a thread
waits for the deadline (an Event with a timeout), then, while the test's
main thread is still blocked, asks for the verdict (diagnose.py; watch ends
the processes below pytest after its snapshot) and then delivers a real
signal to the main thread with signal.pthread_kill. A real signal interrupts
a blocking system call (os.waitpid, a pipe read, time.sleep, lock.acquire):
it fails with EINTR, Python runs our handler, and the handler raises
`DiagTimeout` (a pytest Failed, a BaseException: `except Exception` in the
test does not swallow it). The signal is SIGRTMIN+5, a real-time signal
pytest, pytest-timeout and the usual test code do not use; its handler is
installed for the whole session (a late signal must never meet the default
action, which ends the process) and only raises while a test phase of the
test whose deadline passed runs. The verdict also lands in the phase's
report through the makereport hook, whatever exception the test ended with
(e.g. the call returned when its child was killed and an assertion failed
first): the outcome never depends on that race.

With pytest-timeout beside it, whichever deadline is shorter fires first:
its SIGALRM (or its thread's os._exit) is untouched by ours, and each
plugin cancels its own timer when the test ends.
"""

import contextlib
import signal
import threading

import pytest

SIGNAL = signal.SIGRTMIN + 5
_current = None  # the running test's _Deadline (main thread only writes it)
_active = False  # a setup/call/teardown phase of that test is running


class DiagTimeout(pytest.fail.Exception):
    """The test's deadline passed (raised in its main thread)."""


class _Deadline:
    def __init__(self, item, seconds, diagnose):
        self.item = item
        self.seconds = seconds
        self.diagnose = diagnose
        self.lock = threading.Lock()
        self.done = False
        self.fired = False
        self.pending = False  # a signal was sent; the handler has not raised yet
        self.reported = False
        self.result = None
        self.stop = threading.Event()
        self.main = threading.main_thread().ident
        self.thread = threading.Thread(target=self._run, name="tractor-diag-deadline", daemon=True)

    def _run(self):
        if self.stop.wait(self.seconds):
            return
        with self.lock:
            if self.done:
                return
            self.fired = True
        try:
            result = self.diagnose()
        except Exception as e:  # the test still fails at its deadline, with the reason
            from .diagnose import Verdict

            result = Verdict("no verdict: the plugin's diagnosis failed: %r" % (e,), error=repr(e))
        with self.lock:
            self.result = result
            if not self.done:
                self.pending = True
                try:
                    signal.pthread_kill(self.main, SIGNAL)
                except (OSError, ValueError):
                    pass

    def wait_result(self):
        """The verdict (bounded: the diagnosis bounds its own waits)."""
        self.thread.join(timeout=120)
        if self.result is None:
            from .diagnose import Verdict

            return Verdict("no verdict: the diagnosis did not finish within 120 s")
        return self.result

    def message(self):
        v = self.result
        return "diag-timeout %g s: %s" % (self.seconds, v.summary if v else "deadline passed")


def _on_signal(signum, frame):
    d = _current
    if d is None or not _active or not d.pending:
        return
    d.pending = False
    raise DiagTimeout(d.message(), pytrace=False)


def install(config):
    if threading.current_thread() is not threading.main_thread():
        return
    config._tractor_diag_prev_handler = signal.signal(SIGNAL, _on_signal)


def uninstall(config):
    prev = getattr(config, "_tractor_diag_prev_handler", None)
    if prev is not None and threading.current_thread() is threading.main_thread():
        # A signal sent before the last test ended is already handled (no-op).
        signal.signal(SIGNAL, signal.SIG_IGN if prev is signal.SIG_DFL else prev)


def start(item, seconds, diagnose):
    global _current
    d = _Deadline(item, seconds, diagnose)
    _current = d
    d.thread.start()
    return d


def finish(d):
    global _current
    with d.lock:
        d.done = True
        d.pending = False
    d.stop.set()
    _current = None


def fired_for(item):
    d = _current
    if d is None or d.item is not item or not d.fired:
        return None
    return d


@contextlib.contextmanager
def phase(item):
    global _active
    d = _current
    mine = d is not None and d.item is item
    if mine:
        _active = True
    try:
        yield
    finally:
        if mine:
            _active = False
