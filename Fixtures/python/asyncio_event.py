# A parent runs a child with subprocess and waits for it; the child's asyncio
# loop awaits an Event that nobody sets. The child prints "ready" (on the
# shared stdout) just before it awaits.
#
# What it looks like from outside: the parent in wait4(child); the child in
# epoll_wait on its own loop, whose only other fds are asyncio's self-pipe
# (a socketpair, both ends held by the child itself).
import asyncio
import subprocess
import sys


async def child() -> None:
    never = asyncio.Event()
    print("ready", flush=True)
    await never.wait()


if __name__ == "__main__":
    if sys.argv[1:] == ["child"]:
        asyncio.run(child())
    else:
        sys.exit(subprocess.run([sys.executable, __file__, "child"]).returncode)
