# Threads with names, each blocked in a known function; prints "ready PID"
# once every thread is inside its function (semaphore, no sleeps).
import os
import threading


def blocked_on_lock(lock, ready):
    ready.release()
    lock.acquire()


def blocked_on_event(ev, ready):
    ready.release()
    ev.wait()


def main_waits(ev):
    ev.wait()


def main():
    lock = threading.Lock()
    lock.acquire()
    ev = threading.Event()
    ready = threading.Semaphore(0)
    threading.Thread(target=blocked_on_lock, args=(lock, ready), name="lock-waiter", daemon=True).start()
    threading.Thread(target=blocked_on_event, args=(ev, ready), name="event-waiter", daemon=True).start()
    ready.acquire()
    ready.acquire()
    print("ready", os.getpid(), flush=True)
    main_waits(ev)


main()
