# A tractor tree that hangs in its teardown: the root starts a daemon actor
# "stubborn", runs a task in it that sleeps forever inside a shielded cancel
# scope, then cancels the actor and leaves its nursery.
#
# The actor's cancel handler (Actor.cancel) cancels its RPC tasks and waits
# for each to finish: the shielded one never does, so the cancel request is
# never answered. The root's cancel_actor gives up after 0.5 s, then its
# nursery waits for the actor's process to exit, with no deadline (tractor
# 0.1.0a5 hard-kills only when that wait is itself cancelled). The root
# prints "ready" once the shielded task runs.
#
# From outside: the root waits for the exit of stubborn (trio backend: a
# pidfd in its epoll; spawn backend: the process sentinel pipe); stubborn
# idles in its trio loop with its TCP channel to the root open (its
# cancel listener), its wake-up socketpairs, and nothing else.
#   python tractor_teardown_hang.py [--start-method trio|spawn|forkserver]
import argparse
import socket

import trio
import tractor

# Set once keep_waiting is inside its shield; created lazily inside the actor's
# own trio run (a trio.Event belongs to the run that first uses it).
_entered = None


async def keep_waiting() -> None:
    with trio.CancelScope(shield=True):
        _get_entered().set()
        await trio.sleep_forever()


def _get_entered() -> trio.Event:
    global _entered
    if _entered is None:
        _entered = trio.Event()
    return _entered


async def wait_entered() -> None:
    await _get_entered().wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main(start_method: str) -> None:
    async with tractor.open_nursery(
        start_method=start_method,
        arbiter_addr=("127.0.0.1", free_port()),
    ) as n:
        portal = await n.start_actor("stubborn", enable_modules=[__name__])
        async with trio.open_nursery() as tn:
            tn.start_soon(portal.run, keep_waiting)
            await portal.run(wait_entered)
            print("ready", flush=True)
            tn.cancel_scope.cancel()
        await n.cancel()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--start-method", default="trio", choices=["trio", "spawn", "forkserver"])
    trio.run(main, ap.parse_args().start_method)
