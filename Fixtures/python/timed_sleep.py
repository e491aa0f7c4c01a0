# One process in a plain timed sleep (time.sleep: clock_nanosleep with an
# absolute CLOCK_MONOTONIC deadline on Python 3.11): it will wake by itself.
# watch with a shorter timeout says `sleeping` and how long is left.
import time
print("ready", flush=True)
time.sleep(60)
