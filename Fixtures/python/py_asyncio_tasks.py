# asyncio tasks parked in known places: "event-waiter" on an Event nobody sets,
# "sleeper" in asyncio.sleep, "cancel-ignorer" waiting on after its cancel()
# (it swallows CancelledError), the main task gathering them. Prints
# "ready PID" once every task has reached its wait (events, no sleeps).
import asyncio
import os


async def waits_on_event(ev):
    await ev.wait()


async def sleeper():
    await asyncio.sleep(3600)


async def ignores_cancel(started, handled):
    try:
        started.set()
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        handled.set()
        await asyncio.Event().wait()


async def main():
    ev, started, handled = asyncio.Event(), asyncio.Event(), asyncio.Event()
    t1 = asyncio.create_task(waits_on_event(ev), name="event-waiter")
    t2 = asyncio.create_task(sleeper(), name="sleeper")
    t3 = asyncio.create_task(ignores_cancel(started, handled), name="cancel-ignorer")
    await started.wait()
    t3.cancel()
    await handled.wait()
    print("ready", os.getpid(), flush=True)
    await asyncio.gather(t1, t2, t3)


asyncio.run(main())
