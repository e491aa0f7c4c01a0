import Glibc
import SystemCore

/// How a bounded wait on a child ended.
public enum ChildWait: Sendable, Equatable {
  case exited(WaitStatus)
  case timedOut
  /// A termination signal arrived first (its number).
  case interrupted(Int32)
}

/// A process this process started: its pid and a pidfd, owned by exactly one
/// value (non-copyable), so one owner signals, waits and reaps it, and the
/// pidfd (no pid-reuse race) is closed when the owner lets go. Dropping an
/// OwnedChild does not kill or reap it: a supervisor's TreeReaper does that
/// for everything below it.
public struct OwnedChild: ~Copyable, @unchecked Sendable {
  public let pid: Int32
  private let pidfd: FileDescriptor
  public private(set) var status: WaitStatus?

  public init(pid: Int32, pidfd: consuming FileDescriptor) {
    self.pid = pid
    self.pidfd = pidfd
    self.status = nil
  }

  /// The pidfd, to watch for exit in an event loop or poll(2).
  public var descriptor: Int32 { pidfd.rawValue }

  /// pidfd_send_signal(2).
  public func signal(_ sig: Int32) { Syscalls.pidfdSignal(pidfd.rawValue, sig) }

  /// Has it exited? Reaps it (waitid P_PIDFD); a child already reaped by
  /// the tree reaper's waitpid(-1) gets the status recorded there.
  public mutating func poll() -> WaitStatus? {
    if let status { return status }
    do {
      status = try ProcessControl.reap(pidfd: pidfd.rawValue)
    } catch {
      status = TreeReaper.reaped[pid]
    }
    return status
  }

  /// Waits for exit until `deadlineNs` (CLOCK_MONOTONIC), or until a
  /// termination signal arrives when `signals` is given. Bounded.
  public mutating func wait(untilNs deadlineNs: UInt64, signals: TerminationSignals? = nil) -> ChildWait {
    while true {
      if let s = poll() { return .exited(s) }
      if let signals, let sig = signals.take() { return .interrupted(sig) }
      let now = Syscalls.monotonicNs()
      if now >= deadlineNs { return .timedOut }
      var fds: [(fd: Int32, events: Int16)] = [(pidfd.rawValue, Int16(POLLIN))]
      if let signals { fds.append((signals.descriptor, Int16(POLLIN))) }
      _ = ProcessControl.poll(fds, timeoutMs: Int32(min(1000, (deadlineNs - now) / 1_000_000 + 1)))
    }
  }

  /// Runs the ladder until the child is gone; returns its status (nil if
  /// even SIGKILL did not end it within the ladder's reap bound).
  @discardableResult
  public mutating func tearDown(_ ladder: TeardownLadder) -> WaitStatus? {
    for step in ladder.steps {
      if let s = poll() { return s }
      switch step {
      case .signal(let sig): signal(sig)
      case .wait(let ms): _ = wait(untilNs: Syscalls.monotonicNs() + UInt64(ms) * 1_000_000)
      case .escalate:
        signal(SIGKILL)
        _ = wait(untilNs: Syscalls.monotonicNs() + UInt64(ladder.reapBoundMs) * 1_000_000)
      }
    }
    return poll()
  }
}
