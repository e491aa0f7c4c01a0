# parent waits on child waits on grandchild, which sleeps: a chain of waits on
# child exits ending at the sleeper.
import os, time
def level(n):
    if n == 0:
        print("ready", flush=True)
        time.sleep(3600)
        os._exit(0)
    pid = os.fork()
    if pid == 0:
        level(n - 1)
    os.waitpid(pid, 0)
    os._exit(0)
level(3)
