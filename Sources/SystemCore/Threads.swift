import Glibc
import Synchronization

/// Threads of the tool (never of an actor process: those stay single-threaded).
/// Every thread starts through `create`, the one pthread_create(3) call.
public enum Threads {
  private final class Body: @unchecked Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
  }

  /// pthread_create(3) of a thread running `body`, detached or joinable:
  /// the thread, or the error number pthread_create returned.
  private static func create(_ body: @escaping @Sendable () -> Void, detached: Bool) -> Result<pthread_t, SystemError> {
    let ctx = Unmanaged.passRetained(Body(body)).toOpaque()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    if detached { pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED)) }
    var t = pthread_t()
    let rc = pthread_create(
      &t, &attr,
      { p in
        Unmanaged<Body>.fromOpaque(p!).takeRetainedValue().run()
        return nil
      }, ctx)
    guard rc == 0 else {
      Unmanaged<Body>.fromOpaque(ctx).release()
      return .failure(SystemError("pthread_create", errno: rc))
    }
    return .success(t)
  }

  /// A detached thread that runs `body`. It inherits the caller's signal
  /// mask: start it after the termination signals are blocked.
  public static func startDetached(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
    _ = try create(body, detached: true).get()
  }

  /// Threads a snapshot reads and looks with: one more than the machine's
  /// CPUs, at most 3. A looker spends part of each process waiting (for a
  /// ptrace stop, which needs the target to get a CPU, and in /proc reads),
  /// and a third thread uses that time: `snapshot --tree` of 6 Python
  /// processes on 2 CPUs, 60 interleaved runs, 2 lookers 8.6-9.3 ms,
  /// 3 lookers 7.3 ms, 4 lookers 7.7 ms.
  public static var lookers: Int { max(1, min(3, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) + 1)) }

  /// Runs every body on its own thread and returns when all have finished
  /// (pthread_join(3)); the first runs on the caller's thread. A body whose
  /// thread cannot be created runs on the caller's thread too, so every body
  /// always runs.
  public static func runAll(_ bodies: [@Sendable () -> Void]) {
    let started = bodies.dropFirst().map(spawn)
    bodies.first?()
    for t in started { t.join() }
  }

  /// Calls `body` once for every index in 0..<count, the indices shared out
  /// (each taken once, in order) over `lookers` threads, the caller's among
  /// them; returns when all are done. The one work queue of the snapshot's
  /// readers and lookers.
  public static func forEach(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    guard count > 0 else { return }
    let next = Atomic<Int>(0)
    let worker: @Sendable () -> Void = {
      while true {
        let i = next.add(1, ordering: .relaxed).oldValue
        if i >= count { return }
        body(i)
      }
    }
    runAll(Array(repeating: worker, count: min(lookers, count)))
  }

  /// A started thread that must be joined.
  public final class Joinable: Sendable {
    private let thread: pthread_t?
    private let joined = Mutex<Bool>(false)
    fileprivate init(_ t: pthread_t?) { thread = t }
    /// pthread_join(3), once: a caller returns when the thread has finished.
    public func join() {
      joined.withLock { done in
        if !done, let t = thread { pthread_join(t, nil) }
        done = true
      }
    }
  }

  /// A joinable thread running `body`; when the thread cannot be created,
  /// `body` runs here and now (so it always runs).
  public static func spawn(_ body: @escaping @Sendable () -> Void) -> Joinable {
    switch create(body, detached: false) {
    case .success(let t): return Joinable(t)
    case .failure:
      body()
      return Joinable(nil)
    }
  }
}
