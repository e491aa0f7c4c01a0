# A trio tree stuck the way tractor teardowns get stuck: "shielded-sleeper"
# sleeps in a shielded scope after its nursery's cancel was called, so
# "shielded-group" waits for it forever; "event-waiter" waits on an Event
# nobody sets. Prints "ready PID" once every task is parked (task_status
# handshakes and events, no sleeps).
import os

import trio


async def event_waiter(ev, task_status=trio.TASK_STATUS_IGNORED):
    task_status.started()
    await ev.wait()


async def stuck_in_shield(task_status=trio.TASK_STATUS_IGNORED):
    with trio.CancelScope(shield=True):
        task_status.started()
        await trio.sleep_forever()


async def shielded_group(cancelled, task_status=trio.TASK_STATUS_IGNORED):
    async with trio.open_nursery() as nursery:
        await nursery.start(stuck_in_shield, name="shielded-sleeper")
        nursery.cancel_scope.cancel()
        task_status.started()
        cancelled.set()


async def main():
    never = trio.Event()
    cancelled = trio.Event()
    async with trio.open_nursery() as nursery:
        await nursery.start(event_waiter, never, name="event-waiter")
        await nursery.start(shielded_group, cancelled, name="shielded-group")
        await cancelled.wait()
        print("ready", os.getpid(), flush=True)
        await trio.sleep_forever()


trio.run(main)
