"""pytest hooks: options, the re-run under watch, a deadline per test.

The deadline (deadline.py) covers a test's setup, call and teardown, like
pytest-timeout's default. When it passes, a verdict on the processes below
pytest is added to the test's report (a section), its class, summary and
run directory to item.user_properties (JUnit XML properties), the processes
are ended (--diag-kill, the default), and the test fails with the summary.
"""

import os

import pytest

from . import deadline, diagnose, reexec

SECTION = "tractor-diag verdict"


def pytest_addoption(parser):
    g = parser.getgroup("tractor-diag", "tractor-diag: a verdict on a test's processes at its deadline")
    g.addoption(
        "--diag-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="Deadline per test (setup, call, teardown); 0 turns it off. Overrides the ini diag_timeout.",
    )
    g.addoption(
        "--diag-bin",
        default=None,
        metavar="PATH",
        help="The tractor-diag executable (default: tractor-diag on PATH).",
    )
    g.addoption(
        "--diag-kill",
        dest="diag_kill",
        action="store_true",
        default=True,
        help="End the test's processes after the verdict (the default).",
    )
    g.addoption("--no-diag-kill", dest="diag_kill", action="store_false", help="Leave the test's processes running.")
    g.addoption(
        "--diag-no-watch",
        action="store_true",
        default=False,
        help="Do not re-run pytest under `tractor-diag watch --control` (then only root or ptrace_scope 0 sees everything).",
    )
    parser.addini("diag_timeout", "Deadline per test in seconds (0: none), as --diag-timeout.", default="0")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "diag_timeout(seconds): this test's tractor-diag deadline (overrides --diag-timeout and the ini)"
    )
    config._tractor_diag_bin = reexec.find_bin(config.getoption("diag_bin"))
    deadline.install(config)


def pytest_unconfigure(config):
    deadline.uninstall(config)


def _session_timeout(config, option_value):
    if option_value is not None:
        return float(option_value)
    try:
        return float(config.getini("diag_timeout") or 0)
    except ValueError:
        raise pytest.UsageError("ini diag_timeout must be a number of seconds")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before capture starts and before any conftest is imported: re-run
    pytest under watch when a deadline is configured (reexec.py says why)."""
    ns = early_config.known_args_namespace
    if _session_timeout(early_config, getattr(ns, "diag_timeout", None)) > 0:
        diag_bin = reexec.find_bin(getattr(ns, "diag_bin", None))
        why = reexec.reasons_not_to(early_config, ns, diag_bin)
        if not why:
            why = ["os.execv of %s failed: %s" % (diag_bin, reexec.exec_under_watch(diag_bin))]
        early_config._tractor_diag_not_watched = why
    yield


def pytest_report_header(config):
    """Says in the run's header where verdicts will come from."""
    if _session_timeout(config, config.getoption("diag_timeout")) <= 0:
        return None
    path = os.environ.get(diagnose.CONTROL_ENV)
    if path:
        return "tractor-diag: under watch --control (%s), pid %d" % (path, os.getpid())
    why = getattr(config, "_tractor_diag_not_watched", None) or ["unknown"]
    return "tractor-diag: not under watch (%s): snapshots only where root or ptrace_scope 0 allows" % "; ".join(why)


def item_timeout(item):
    m = item.get_closest_marker("diag_timeout")
    if m is not None:
        value = m.args[0] if m.args else m.kwargs.get("seconds", 0)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise pytest.UsageError("%s: diag_timeout(seconds) needs a number, got %r" % (item.nodeid, value))
    return _session_timeout(item.config, item.config.getoption("diag_timeout"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    seconds = item_timeout(item)
    if seconds <= 0:
        yield
        return
    d = deadline.start(item, seconds, lambda: _diagnose(item, seconds))
    try:
        yield
    finally:
        deadline.finish(d)


def _diagnose(item, seconds):
    config = item.config
    return diagnose.diagnose(
        config._tractor_diag_bin, os.getpid(), item.nodeid, config.getoption("diag_kill"), int(seconds * 1000)
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with deadline.phase(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with deadline.phase(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    with deadline.phase(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    d = deadline.fired_for(item)
    if d is None or d.reported:
        return
    d.reported = True
    v = d.wait_result()
    report = outcome.get_result()
    report.outcome = "failed"
    report.longrepr = "diag-timeout %s s: %s" % (_fmt(d.seconds), v.summary)
    lines = [v.text.rstrip("\n")] if v.text else []
    if v.file or v.run_dir:
        lines.append("tractor-diag files: %s" % (v.file or v.run_dir))
    if v.killed:
        lines.append("ended: %s" % " ".join(str(p) for p in v.killed))
    report.sections.append((SECTION, "\n".join(lines) + "\n"))
    props = [("tractor_diag_class", v.hang_class or "none"), ("tractor_diag_summary", v.summary)]
    if v.run_dir:
        props.append(("tractor_diag_run_dir", v.run_dir))
    if v.file:
        props.append(("tractor_diag_file", v.file))
    item.user_properties.extend(props)
    if report.when == "teardown":
        report.user_properties.extend(props)


def _fmt(s):
    return ("%g" % s) if s != int(s) else str(int(s))
