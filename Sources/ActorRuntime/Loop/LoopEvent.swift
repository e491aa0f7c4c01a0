/// A one-shot flag tasks can wait on, with a deadline (trio's `Event`).
/// Loop-confined like everything in the runtime.
public final class LoopEvent: @unchecked Sendable {
  public private(set) var isSet = false
  private var waiters: [(UInt64, UnsafeContinuation<Bool, any Error>)] = []
  private var nextID: UInt64 = 1
  private let loop: EventLoop

  public init(loop: EventLoop) { self.loop = loop }

  public func set() {
    guard !isSet else { return }
    isSet = true
    let w = waiters
    waiters.removeAll()
    for (_, c) in w { c.resume(returning: true) }
  }

  /// True once set; false at the deadline; throws CancellationError.
  public func wait(deadline: UInt64?) async throws -> Bool {
    if isSet { return true }
    let id = nextID
    nextID += 1
    var timer: UInt64 = 0
    defer { if timer != 0 { loop.cancelTimer(timer) } }
    return try await withTaskCancellationHandler {
      try await withUnsafeThrowingContinuation { (c: UnsafeContinuation<Bool, any Error>) in
        if Task.isCancelled { c.resume(throwing: CancellationError()); return }
        if isSet { c.resume(returning: true); return }
        waiters.append((id, c))
        if let d = deadline {
          timer = loop.at(d) { [weak self] in self?.resume(id, .success(false)) }
        }
      }
    } onCancel: {
      self.resume(id, .failure(CancellationError()))
    }
  }

  /// True as soon as any of `events` is set; false at the deadline; throws
  /// CancellationError.
  public static func waitAny(_ events: [LoopEvent], deadline: UInt64?) async throws -> Bool {
    if events.contains(where: \.isSet) { return true }
    return try await withThrowingTaskGroup(of: Bool.self) { g in
      for e in events { g.addTask { try await e.wait(deadline: deadline) } }
      defer { g.cancelAll() }
      while let r = try await g.next() { if r { return true } }
      return false
    }
  }

  private func resume(_ id: UInt64, _ r: Result<Bool, any Error>) {
    guard let i = waiters.firstIndex(where: { $0.0 == id }) else { return }
    let c = waiters.remove(at: i).1
    c.resume(with: r)
  }
}
