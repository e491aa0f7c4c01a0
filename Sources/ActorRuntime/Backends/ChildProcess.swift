import CSystem
import Glibc
import Supervision
import SystemCore

/// A started actor process as its logical parent sees it: pid, a pidfd to
/// wait on (never a blocking waitpid: that could not be cancelled), and the
/// parent's end of the IPC channel.
public final class ChildProcess: @unchecked Sendable {
  public let pid: Int32
  public let name: String
  public private(set) var pidfd: Int32
  public let channel: Channel
  /// True when this process is the child's OS parent (spawn, fork): then
  /// waitid(P_PIDFD) reaps it. Under the fork server the server reaps, and
  /// the status comes from PIDFD_GET_INFO.
  public let isOSChild: Bool
  public private(set) var status: WaitStatus?
  private let loop: EventLoop

  public init(pid: Int32, name: String, pidfd: Int32, channel: Channel, isOSChild: Bool, loop: EventLoop) {
    self.pid = pid
    self.name = name
    self.pidfd = pidfd
    self.channel = channel
    self.isOSChild = isOSChild
    self.loop = loop
  }

  deinit {
    if pidfd >= 0 { loop.forget(pidfd); close(pidfd) }
    if keptChildEnd >= 0 { close(keptChildEnd) }
  }

  /// Has the process exited? Reaps an OS child.
  public func poll() -> WaitStatus? {
    if let status { return status }
    var raw: Int32 = 0
    if isOSChild {
      let rc = cs_waitid_pidfd(pidfd, &raw)
      if rc == 1 {
        status = WaitStatus(raw: raw)
      } else if rc < 0, let s = TreeReaper.reaped[pid] {
        // The tree killer reaped it with waitpid(-1) first.
        status = s
      }
    } else if cs_pidfd_exit_info(pidfd, &raw) == 0 {
      status = WaitStatus(raw: raw)
    }
    return status
  }

  /// Waits for exit on the pidfd until `deadline`; nil if still running.
  /// Cancellable: a wait on a child's exit must never be the one thing
  /// cancel cannot interrupt.
  public func waitExit(deadline: UInt64?) async throws -> WaitStatus? {
    while true {
      if let s = poll() { return s }
      let r = try await loop.readable(pidfd, deadline: deadline)
      if let s = poll() { return s }
      if r == .timedOut { return nil }
      // Readable, yet no status: the exit is visible on the pidfd a moment
      // before the exit info is published. Wait 1 ms rather than spin.
      try await loop.sleep(ms: 1)
    }
  }

  public func signal(_ sig: Int32) { Syscalls.pidfdSignal(pidfd, sig) }

  /// A copy of the child's channel end kept open on purpose (boot-death
  /// fault: the parent then cannot see the child's death as EOF).
  public var keptChildEnd: Int32 = -1

  /// blocking-child-wait fault only: blocks the calling thread (and so the
  /// whole loop) until the child exits: waitpid for our own child, poll on
  /// the pidfd otherwise.
  public func blockUntilExit() {
    if isOSChild {
      var raw: Int32 = 0
      var r: pid_t = -1
      repeat { r = waitpid(pid, &raw, 0) } while r < 0 && errno == EINTR
      // Only a reaped child has a status; on an error the pidfd still tells.
      guard r == pid else {
        _ = poll()
        return
      }
      status = WaitStatus(raw: raw)
      TreeReaper.reaped[pid] = status
    } else {
      var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
      while Glibc.poll(&p, 1, -1) < 0 && errno == EINTR {}
      _ = poll()
    }
  }
}
