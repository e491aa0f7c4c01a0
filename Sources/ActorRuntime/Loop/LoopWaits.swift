import SystemCore

/// Why a bounded wait ended.
public enum WaitResult: Sendable, Equatable {
  case ready(UInt32)
  case timedOut
}

/// One pending wait: resumed exactly once, by readiness, its timer or cancellation.
private final class PendingWait: @unchecked Sendable {
  var continuation: UnsafeContinuation<WaitResult, any Error>?
  var fd: Int32 = -1
  var fdToken: UInt64 = 0
  var timerToken: UInt64 = 0
  var done = false

  func finish(_ loop: EventLoop, _ r: Result<WaitResult, any Error>) {
    guard !done, let c = continuation else { return }
    done = true
    continuation = nil
    if fdToken != 0 { loop.cancelReady(fd, fdToken) }
    if timerToken != 0 { loop.cancelTimer(timerToken) }
    c.resume(with: r)
  }
}

/// Deadlines are absolute CLOCK_MONOTONIC ns.
public func deadline(afterMs ms: Int) -> UInt64 { Syscalls.monotonicNs() + UInt64(max(0, ms)) * 1_000_000 }

extension EventLoop {
  /// Waits until `fd` is ready for `events`, the deadline passes, or the task
  /// is cancelled (throws `CancellationError`). The loop's epoll registration
  /// is removed in every case.
  public func wait(fd: Int32, events: UInt32, deadline: UInt64?) async throws -> WaitResult {
    let w = PendingWait()
    return try await withTaskCancellationHandler {
      try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<WaitResult, any Error>) in
        if Task.isCancelled {
          c.resume(throwing: CancellationError())
          return
        }
        w.continuation = c
        if fd >= 0 {
          w.fd = fd
          w.fdToken = self.onReady(fd, events) { ev in w.finish(self, .success(.ready(ev))) }
        }
        if let d = deadline {
          w.timerToken = self.at(d) { w.finish(self, .success(.timedOut)) }
        }
      }
    } onCancel: {
      // Runs on the loop thread (the only thread), from the canceller's job.
      w.finish(self, .failure(CancellationError()))
    }
  }

  public func readable(_ fd: Int32, deadline: UInt64? = nil) async throws -> WaitResult {
    try await wait(fd: fd, events: Epoll.readable | Epoll.peerClosed, deadline: deadline)
  }

  public func writable(_ fd: Int32, deadline: UInt64? = nil) async throws -> WaitResult {
    try await wait(fd: fd, events: Epoll.writable, deadline: deadline)
  }

  /// Cancellable sleep on the loop's own timer (never `Task.sleep`).
  public func sleep(ms: Int) async throws {
    _ = try await wait(fd: -1, events: 0, deadline: deadline(afterMs: ms))
  }

  /// Sleeps until cancelled.
  public func sleepForever() async throws {
    _ = try await wait(fd: -1, events: 0, deadline: nil)
  }

  /// A wait that ignores cancellation: it is never resumed. Only the
  /// `ignoreCancel` behaviour and settings that reproduce a bug use it, on
  /// purpose.
  public func waitIgnoringCancellation() async {
    await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
  }

  /// Runs `body` in a task this task's cancellation does not reach (trio's
  /// shield), and waits for it.
  public func shielded<T: Sendable>(_ body: sending @escaping () async -> T) async -> T {
    await spawn(body).value
  }

  /// Runs `body`; if it is not done by `deadline` it is cancelled and nil is
  /// returned once it has unwound. A body that ignores cancellation is waited
  /// for: that is the hang a bound cannot fix, and the probes will show it.
  public func withDeadline<T: Sendable>(
    _ deadline: UInt64, _ body: @escaping @Sendable () async throws -> T
  ) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
      group.addTask { try await body() }
      group.addTask {
        try await self.sleepUntil(deadline)
        return nil
      }
      defer { group.cancelAll() }
      let first = try await group.next()!
      return first
    }
  }

  public func sleepUntil(_ deadline: UInt64) async throws {
    _ = try await wait(fd: -1, events: 0, deadline: deadline)
  }
}
