import Supervision
import SystemCore

/// A started actor process as its logical parent sees it: pid, a pidfd to
/// wait on (never a blocking waitpid: that could not be cancelled), and the
/// parent's end of the IPC channel.
public final class ChildProcess: @unchecked Sendable {
  public let pid: Int32
  public let name: String
  private let pidDescriptor: FileDescriptor
  public var pidfd: Int32 { pidDescriptor.rawValue }
  public let channel: Channel
  /// True when this process is the child's OS parent (spawn, fork): then
  /// waitid(P_PIDFD) reaps it. Under the fork server the server reaps, and
  /// the status comes from PIDFD_GET_INFO.
  public let isOSChild: Bool
  public private(set) var status: WaitStatus?
  private let loop: EventLoop

  public init(pid: Int32, name: String, pidfd: consuming FileDescriptor, channel: Channel, isOSChild: Bool, loop: EventLoop) {
    self.pid = pid
    self.name = name
    self.pidDescriptor = pidfd
    self.channel = channel
    self.isOSChild = isOSChild
    self.loop = loop
  }

  deinit {
    if pidfd >= 0 { loop.forget(pidfd) }
  }

  /// Has the process exited? Reaps an OS child.
  public func poll() -> WaitStatus? {
    if let status { return status }
    if isOSChild {
      do { status = try Syscalls.reap(pidfd: pidfd) } catch {
        // The tree killer reaped it with waitpid(-1) first.
        status = TreeReaper.reaped[pid]
      }
    } else {
      status = Syscalls.exitStatus(pidfd: pidfd)
    }
    return status
  }

  /// Waits for exit on the pidfd until `deadline`; nil if still running.
  /// Cancellable: a wait on a child's exit must never be the one thing
  /// cancel cannot interrupt.
  public func waitExit(deadline: UInt64?) async throws -> WaitStatus? {
    var pauseMs = 1
    while true {
      if let s = poll() { return s }
      let r = try await loop.readable(pidfd, deadline: deadline)
      if let s = poll() { return s }
      if r == .timedOut { return nil }
      // Readable, yet no status: the exit is visible on the pidfd before
      // the exit info is published (a fork server child: when the server
      // has reaped it, which a busy server does late). Wait rather than
      // spin, doubling the pause up to 16 ms: at depth 7 under forkserver,
      // polling every 1 ms took ~12% of all actor CPU (epoll_wait, timers,
      // PIDFD_GET_INFO) while the server was busy forking.
      try await loop.sleep(ms: pauseMs)
      pauseMs = min(pauseMs * 2, 16)
    }
  }

  public func signal(_ sig: Int32) { Syscalls.pidfdSignal(pidfd, sig) }

  /// The parent's copy of the child's channel end, as the backend hands it
  /// over. The nursery closes it at once, unless its supervision of this
  /// child keeps it (then the child's death is no EOF to the parent).
  public var childEnd = FileDescriptor.none

  public func closeChildEnd() { childEnd.close() }

  /// A wait that blocks the calling thread (and so the whole loop) until the
  /// child exits: waitpid for our own child, poll on the pidfd otherwise.
  /// Only the `blockingChildWait` setting uses it.
  public func blockUntilExit() {
    if isOSChild {
      // Only a reaped child has a status; on an error the pidfd still tells.
      guard let s = Syscalls.waitBlocking(pid) else {
        _ = poll()
        return
      }
      status = s
      TreeReaper.reaped[pid] = s
    } else {
      Syscalls.pollReadable(pidfd, timeoutMs: -1)
      _ = poll()
    }
  }
}
