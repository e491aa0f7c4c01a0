import Glibc
import Synchronization

/// Threads of the tool (never of an actor process: those stay single-threaded).
public enum Threads {
  private final class Body: @unchecked Sendable {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
  }

  /// pthread_create(3) of a detached thread that runs `body`. It inherits the
  /// caller's signal mask: start it after the termination signals are blocked.
  public static func startDetached(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
    let ctx = Unmanaged.passRetained(Body(body)).toOpaque()
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
    var t = pthread_t()
    let rc = pthread_create(
      &t, &attr,
      { p in
        Unmanaged<Body>.fromOpaque(p!).takeRetainedValue().run()
        return nil
      }, ctx)
    guard rc == 0 else {
      Unmanaged<Body>.fromOpaque(ctx).release()
      throw SystemError("pthread_create", errno: rc)
    }
  }

  /// Threads a snapshot reads and looks with: the machine's CPUs, at most 2.
  /// This machine class has 2 cores; the processes of one tree are too few to
  /// gain from more, and the targets need a CPU to stop for ptrace.
  public static var lookers: Int { max(1, min(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))) }

  /// Runs every body on its own thread (pthread_create(3)) and returns when
  /// all have finished (pthread_join(3)). A body whose thread cannot be
  /// created runs on the caller's thread instead, so every body always runs.
  public static func runAll(_ bodies: [@Sendable () -> Void]) {
    var started: [pthread_t] = []
    for body in bodies.dropFirst() {
      let ctx = Unmanaged.passRetained(Body(body)).toOpaque()
      var t = pthread_t()
      let rc = pthread_create(
        &t, nil,
        { p in
          Unmanaged<Body>.fromOpaque(p!).takeRetainedValue().run()
          return nil
        }, ctx)
      if rc == 0 {
        started.append(t)
      } else {
        Unmanaged<Body>.fromOpaque(ctx).release()
        body()
      }
    }
    bodies.first?()
    for t in started { pthread_join(t, nil) }
  }

  /// A started thread that must be joined.
  public final class Joinable: @unchecked Sendable {
    private var thread: pthread_t?
    private let lock = Mutex<Bool>(false)
    fileprivate init(_ t: pthread_t?) { thread = t }
    /// pthread_join(3), once; later calls return at once.
    public func join() {
      let first = lock.withLock { joined -> Bool in
        defer { joined = true }
        return !joined
      }
      if first, let t = thread { pthread_join(t, nil) }
    }
  }

  /// pthread_create(3) of a joinable thread running `body`; when the thread
  /// cannot be created, `body` runs here and now (so it always runs).
  public static func spawn(_ body: @escaping @Sendable () -> Void) -> Joinable {
    let ctx = Unmanaged.passRetained(Body(body)).toOpaque()
    var t = pthread_t()
    let rc = pthread_create(
      &t, nil,
      { p in
        Unmanaged<Body>.fromOpaque(p!).takeRetainedValue().run()
        return nil
      }, ctx)
    if rc != 0 {
      Unmanaged<Body>.fromOpaque(ctx).release()
      body()
      return Joinable(nil)
    }
    return Joinable(t)
  }
}
