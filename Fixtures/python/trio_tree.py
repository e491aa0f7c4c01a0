# A trio parent runs a trio child with trio.run_process and waits for it.
# The child has two tasks that never finish: one waits on a trio.Event that
# nobody sets, one sleeps for an hour inside a shielded cancel scope (a
# finite timer: its epoll_wait has a timeout). The child prints "ready" once
# both tasks have started.
#
# From outside: the parent in epoll_wait watching the child's pidfd (trio
# >= 0.22 waits for exit through a pidfd) and its wake-up socketpairs; the
# child in epoll_wait with a timeout, watching only its wake-up socketpairs.
import sys

import trio


async def child() -> None:
    never = trio.Event()

    async def shielded_sleep(task_status=trio.TASK_STATUS_IGNORED) -> None:
        with trio.CancelScope(shield=True):
            task_status.started()
            await trio.sleep(3600)

    async def wait_for_event(task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await never.wait()

    async with trio.open_nursery() as n:
        await n.start(shielded_sleep)
        await n.start(wait_for_event)
        print("ready", flush=True)


async def parent() -> None:
    await trio.run_process([sys.executable, __file__, "child"])


if __name__ == "__main__":
    trio.run(child if sys.argv[1:] == ["child"] else parent)
