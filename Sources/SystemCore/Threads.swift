import Glibc

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
}
