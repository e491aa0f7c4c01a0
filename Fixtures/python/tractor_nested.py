# tractor's test_nested_multierrors (tests/test_cancellation.py, tractor
# 0.1.0a5) as a program: the root spawns spawner_0 .. spawner_{breadth-1};
# each spawner spawns spawner_{i}_depth_{d} down to depth 0, whose children
# are the errorers `<parent name>_errorer_{i}`, which fail with an
# AssertionError. Every spawner's nursery gathers its children's errors into
# a trio.MultiError, relayed up as RemoteActorErrors. Like tractor's test, it
# reuses names across branches (both spawners have a child
# spawner_0_depth_1).
#
# Exits 0 when the root got the error tree the test expects, 1 otherwise.
#   python tractor_nested.py [--start-method trio|spawn|forkserver] [--depth 1] [--breadth 2]
# (tractor's own names for its spawn backends: tractor._spawn.try_set_start_method)
# At depth 1 and breadth 2: 1 + 2 + 4 + 8 = 15 processes.
import argparse
import socket
import sys

import trio
import tractor


async def assert_err(delay=0):
    await trio.sleep(delay)
    assert 0


async def spawn_and_error(breadth, depth) -> None:
    name = tractor.current_actor().name
    async with tractor.open_nursery() as nursery:
        for i in range(breadth):
            if depth > 0:
                args = (spawn_and_error,)
                kwargs = {
                    "name": f"spawner_{i}_depth_{depth}",
                    "breadth": breadth,
                    "depth": depth - 1,
                }
            else:
                args = (assert_err,)
                kwargs = {"name": f"{name}_errorer_{i}"}
            await nursery.run_in_actor(*args, **kwargs)


def free_port() -> int:
    # tractor's tests use a random arbiter port too: the default (1616) would
    # join this tree to any other tractor tree on the machine.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(start_method: str, depth: int, breadth: int) -> int:
    try:
        async with tractor.open_nursery(
            start_method=start_method,
            arbiter_addr=("127.0.0.1", free_port()),
        ) as nursery:
            for i in range(breadth):
                await nursery.run_in_actor(
                    spawn_and_error,
                    name=f"spawner_{i}",
                    breadth=breadth,
                    depth=depth,
                )
    except trio.MultiError as err:
        # The checks of tractor's test on Linux. Under Python 3.11 trio 0.22
        # raises NonBaseMultiError, a MultiError subclass: `is` would fail.
        ok = len(err.exceptions) == breadth and all(
            isinstance(e, tractor.RemoteActorError)
            and (issubclass(e.type, trio.MultiError) if breadth > 1 else True)
            for e in err.exceptions
        )
        shape = ", ".join(f"{type(e).__name__}({getattr(e, 'type', type(e)).__name__})" for e in err.exceptions)
        print(("error tree as expected: " if ok else "unexpected error tree: ") + shape, flush=True)
        return 0 if ok else 1
    except tractor.RemoteActorError as err:
        # At breadth 1 each nursery has one child: its error comes up alone,
        # not in a MultiError (the smallest tree: compare --watch's test).
        ok = breadth == 1
        print(("error as expected: " if ok else "unexpected error: ") + f"RemoteActorError({err.type.__name__})", flush=True)
        return 0 if ok else 1
    print("no error raised", flush=True)
    return 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--start-method", default="trio", choices=["trio", "spawn", "forkserver"])
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--breadth", type=int, default=2)
    a = ap.parse_args()
    sys.exit(trio.run(main, a.start_method, a.depth, a.breadth))
