# A Python process that never stops running: its frames change all the time
# (recursion of varying depth). Prints "ready PID" before it starts churning.
import os


def recurse(n):
    if n:
        return recurse(n - 1)
    return sum(range(50))


def churn():
    i = 0
    while True:
        recurse(i % 40)
        i += 1


print("ready", os.getpid(), flush=True)
churn()
