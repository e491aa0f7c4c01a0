import Probes
import SystemCore

/// `fork`: the actor forks itself. Safe only because actor processes are
/// single-threaded; the fork happens between jobs so that no task frame is
/// on the stack, and the child drops the parent's whole task tree.
public struct ForkBackend: SpawnBackend, @unchecked Sendable {
  public let name = "fork"
  let loop: EventLoop
  /// Whether this process's image mappings are shared with fork children
  /// (ImageMappings): done once, by the exec'ed root; its fork children
  /// inherit both the mappings' state and this flag.
  nonisolated(unsafe) static var imageShared = false

  public func start(_ spec: SpawnSpec, probes: ProbeWriter) async throws -> ChildProcess {
    // Both ends are closed on every way out but the hand-over below (the
    // nursery then closes the child's end unless its supervision keeps it).
    let pair = try Syscalls.socketPair()
    let parentEnd = pair.first
    let childEnd = pair.second
    let childFD = childEnd.rawValue
    let runDir = spec.runDir
    let childName = spec.actor.name
    let inherit = spec.actor.supervision.keepInheritedFds
    let bootHook = spec.actor.supervision.bootHook
    if !ForkBackend.imageShared {
      // As the fork server does: the children copy the text's page table
      // entries instead of faulting them in (depth 7 under fork: page
      // faults of the whole tree 259k -> 101k, medians of 4).
      ForkBackend.imageShared = true
      ImageMappings.shareWithForkChildren()
    }
    let forked: Result<Int32, SystemError> = await withUnsafeContinuation { c in
      loop.runBetweenJobs {
        let threads = Syscalls.threadCount()
        probes.record("fork", "FORK", detail: "threads=\(threads) child=\(childName)")
        do throws(SystemError) {
          let pid = try Syscalls.fork()
          if pid == 0 {
            ForkedChild.become(channelFD: childFD, runDir: runDir, name: childName, inheritFds: inherit, bootHook: bootHook)
            return  // the loop now runs the child's actor; nothing of the parent resumes
          }
          c.resume(returning: .success(pid))
        } catch {
          c.resume(returning: .failure(error))
        }
      }
    }
    let pid: Int32
    switch forked {
    case .success(let p): pid = p
    case .failure(let e): throw SystemError("fork", errno: e.errno, context: childName)
    }
    let child = ChildProcess(
      pid: pid, name: childName, pidfd: try Syscalls.pidfdOpen(pid), channel: Channel(owning: parentEnd, loop: loop),
      isOSChild: true, loop: loop)
    child.childEnd = childEnd
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
      LockHolderThread.takeLock()
    }
    // 1. Signals first: the forking thread's mask and handlers are inherited,
    //    and a child that ignores SIGTERM defeats the teardown ladder.
    Syscalls.resetSignals()
    // 2. Put our channel on the agreed fd, then close everything else from 4
    //    up: inherited sibling channels, pidfds and the parent's epoll fd would
    //    keep peers from ever seeing EOF.
    Syscalls.duplicate(channelFD, onto: actorChannelFD)
    if !inheritFds {
      Syscalls.closeFrom(actorChannelFD + 1)
    }
    // 3. Drop the parent's task tree, timers and fd waiters.
    EventLoop.current.abandonAllForForkChild()
    // 4. Become the actor on the same (now empty) loop.
    ActorProcess.startActor(channelFD: actorChannelFD, runDir: runDir, nameHint: name, loop: EventLoop.current, bootHook: bootHook)
  }
}
