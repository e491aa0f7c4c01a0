"""Re-running pytest under `tractor-diag watch --control` at start-up.

Why: on a CI machine where tests do not run as root and Yama's ptrace_scope
is 1, /proc/PID/syscall, process memory and stacks are readable only by an
ancestor (or with CAP_SYS_PTRACE). A `tractor-diag` that pytest starts at a
test's deadline is a sibling of the test's processes, not their ancestor,
and would see little. So before anything else happens, the pytest process
replaces itself (os.execv: the same pid, so the CI shell waiting for it gets
the exit status of watch, which is pytest's own) with

    tractor-diag watch --control --timeout 86400 -- PYTHON ORIGINAL-ARGV...

and the pytest that watch starts finds TRACTOR_DIAG_CONTROL set and asks
watch, its ancestor, for each verdict.

Not re-run: in an xdist worker, when TRACTOR_DIAG_CONTROL is already set (we
are the re-run), after one re-run already (a guard variable), when pytest
was called as a function (pytest.main) rather than as a program, with --pdb
or --trace (watch starts the command in a new process group, which is not
the terminal's foreground group), for --help and --version, with
--diag-no-watch, and when tractor-diag is not found.
"""

import os
import shutil
import sys

GUARD_ENV = "TRACTOR_DIAG_PYTEST_REEXEC"
WATCH_TIMEOUT_S = "86400"  # watch's maximum: the per-test deadlines are the plugin's


def find_bin(option_value):
    """--diag-bin, or tractor-diag on PATH; None when neither is executable."""
    if option_value:
        return option_value if os.access(option_value, os.X_OK) else None
    return shutil.which("tractor-diag")


def reasons_not_to(config, ns, diag_bin):
    """Why pytest is not re-run under watch (empty: it is)."""
    why = []
    if os.environ.get("PYTEST_XDIST_WORKER") or hasattr(config, "workerinput"):
        why.append("an xdist worker")
    if os.environ.get("TRACTOR_DIAG_CONTROL"):
        why.append("already under watch --control")
    if os.environ.get(GUARD_ENV):
        why.append("re-run once already")
    if tuple(config.invocation_params.args) != tuple(sys.argv[1:]):
        why.append("pytest was called as a function, not as a program")
    if getattr(ns, "usepdb", False) or getattr(ns, "trace", False):
        why.append("--pdb/--trace need the terminal")
    if getattr(ns, "help", False) or getattr(ns, "version", False):
        why.append("--help/--version")
    if getattr(ns, "diag_no_watch", False):
        why.append("--diag-no-watch")
    if diag_bin is None:
        why.append("tractor-diag not found")
    return why


def interpreter_argv():
    """This interpreter's own argv (options, -m pytest or the script, args)."""
    orig = getattr(sys, "orig_argv", None)  # 3.10+
    if orig:
        return [sys.executable] + list(orig[1:])
    if sys.argv[0].endswith("__main__.py"):
        return [sys.executable, "-m", "pytest"] + sys.argv[1:]
    return [sys.executable] + sys.argv


def exec_under_watch(diag_bin):
    """Replaces this process; returns only if execv failed (the error)."""
    argv = [diag_bin, "watch", "--control", "--timeout", WATCH_TIMEOUT_S, "--"] + interpreter_argv()
    os.environ[GUARD_ENV] = "1"
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:
            pass
    try:
        os.execv(diag_bin, argv)
    except OSError as e:
        del os.environ[GUARD_ENV]
        return e
