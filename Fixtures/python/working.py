# One process at work: it keeps allocating and computing for a minute (minor
# faults and RSS move between samples, CPU is used). watch with a shorter
# timeout says `working` and "the tree was still at work at the deadline".
import time
print("ready", flush=True)
end = time.monotonic() + 60
chunks = []
while time.monotonic() < end:
    chunks.append(bytearray(64 * 1024))  # new pages each round
    if len(chunks) > 2000:
        chunks.clear()
    sum(range(2000))
