# multiprocessing, start method spawn: root -> child -> grandchild, each
# parent join()s its child; the leaf waits on a threading.Event nobody sets.
# The spawn start method also starts multiprocessing's resource tracker (a
# child of the root that reads a pipe every process of the tree inherits).
# The leaf prints "ready" before it waits.
#
# From outside: root and child in wait4 (Process.join is a blocking waitpid
# for spawn children), the leaf in futex_wait, the resource tracker in read.
import multiprocessing as mp
import threading


def leaf() -> None:
    print("ready", flush=True)
    threading.Event().wait()


def middle() -> None:
    p = mp.get_context("spawn").Process(target=leaf, name="leaf")
    p.start()
    p.join()


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    p = ctx.Process(target=middle, name="middle")
    p.start()
    p.join()
