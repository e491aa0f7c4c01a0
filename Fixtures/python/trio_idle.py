# One trio process idle in sleep_forever: its loop watches only its own
# wake-up socketpairs (both ends held by itself). Prints "ready" first.
import trio


async def main() -> None:
    print("ready", flush=True)
    await trio.sleep_forever()


if __name__ == "__main__":
    trio.run(main)
