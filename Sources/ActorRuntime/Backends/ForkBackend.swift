import CSystem
import Glibc
import Probes
import SystemCore

/// `fork`: the actor forks itself. Safe only because actor processes are
/// single-threaded; the fork happens between jobs so that no task frame is
/// on the stack, and the child drops the parent's whole task tree.
public struct ForkBackend: SpawnBackend, @unchecked Sendable {
  public let name = "fork"
  let loop: EventLoop

  public func start(_ spec: SpawnSpec, probes: ProbeWriter) async throws -> ChildProcess {
    let (parentEnd, childEnd) = try Syscalls.socketPair().takeRaw()
    let runDir = spec.runDir
    let childName = spec.actor.name
    let inherit = spec.actor.supervision.keepInheritedFds
    let bootHook = spec.actor.supervision.bootHook
    let (pid, forkErrno): (Int32, Int32) = await withUnsafeContinuation { c in
      loop.runBetweenJobs {
        let threads = cs_thread_count()
        probes.record("fork", "FORK", detail: "threads=\(threads) child=\(childName)")
        let pid = cs_fork()
        if pid == 0 {
          ForkedChild.become(channelFD: childEnd, runDir: runDir, name: childName, inheritFds: inherit, bootHook: bootHook)
          return  // the loop now runs the child's actor; nothing of the parent resumes
        }
        c.resume(returning: (pid, pid < 0 ? errno : 0))
      }
    }
    // Until a ChildProcess owns them, every way out closes both ends.
    var handedOver = false
    defer {
      if !handedOver {
        close(parentEnd)
        close(childEnd)
      }
    }
    guard pid > 0 else { throw SystemError("fork", errno: forkErrno, context: childName) }
    let pidfd = try Syscalls.pidfdOpen(pid).take()
    let child = ChildProcess(
      pid: pid, name: childName, pidfd: pidfd, channel: Channel(adopting: parentEnd, loop: loop), isOSChild: true,
      loop: loop)
    child.childEnd = childEnd
    handedOver = true
    return child
  }
}

/// What a fork child does before it is an actor, in this order.
public enum ForkedChild {
  /// Set in a process that has a second thread holding a lock (the
  /// `lockHoldingThread` setting). Its fork children inherit the lock held.
  nonisolated(unsafe) public static var lockHeldByAnotherThread = false

  /// Called in the child right after fork, on the loop thread, between jobs.
  public static func become(channelFD: Int32, runDir: String, name: String, inheritFds: Bool = false, bootHook: BootHook = .none) {
    if lockHeldByAnotherThread {
      // What a runtime does first in a fork child (re-initialise its logger,
      // allocator, ...) takes a lock; the thread that held it was not copied.
      cs_fault_take_lock()
    }
    // 1. Signals first: the forking thread's mask and handlers are inherited,
    //    and a child that ignores SIGTERM defeats the teardown ladder.
    cs_reset_signals()
    // 2. Put our channel on the agreed fd, then close everything else from 4
    //    up: inherited sibling channels, pidfds and the parent's epoll fd would
    //    keep peers from ever seeing EOF.
    if channelFD != actorChannelFD {
      dup2(channelFD, actorChannelFD)
    } else {
      _ = fcntl(actorChannelFD, F_SETFD, 0)
    }
    if !inheritFds {
      _ = cs_close_from(UInt32(actorChannelFD + 1))
    }
    // 3. Drop the parent's task tree, timers and fd waiters.
    EventLoop.current.abandonAllForForkChild()
    // 4. Become the actor on the same (now empty) loop.
    ActorProcess.startActor(channelFD: actorChannelFD, runDir: runDir, nameHint: name, loop: EventLoop.current, bootHook: bootHook)
  }
}
