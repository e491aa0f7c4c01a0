"""A small test suite with the bug that inspired tractor-diag: a child
process fills a stdout pipe its parent never reads, and the parent waits for
it forever. `test_report` passes; `test_export` hangs.

    tractor-diag watch --timeout 10 -- python -m pytest -q Examples/pytest-hang
"""
import subprocess
import sys

WRITER = "import sys; sys.stdout.write('x' * (1 << 20)); sys.stdout.flush()"


def test_report():
    out = subprocess.run([sys.executable, "-c", "print('ok')"], capture_output=True, text=True, check=True)
    assert out.stdout == "ok\n"


def test_export():
    # The child writes 1 MiB to a pipe of 64 KiB and blocks when it is full;
    # wait() before reading means nobody ever drains it.
    child = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE)
    assert child.wait() == 0
