import Glibc

/// The one clock (CLOCK_MONOTONIC: probes, deadlines and measurements of
/// every process of a run compare on it) and blocking sleeps.
extension Syscalls {
  /// clock_gettime(CLOCK_MONOTONIC) in ns.
  @inline(__always)
  public static func monotonicNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
  }

  /// clock_gettime(2) of `clock` (a clock id as a syscall argument holds it:
  /// CLOCK_REALTIME 0, CLOCK_MONOTONIC 1, CLOCK_BOOTTIME 7) in ns; nil for
  /// an unknown clock. Turns an absolute timeout of another process into
  /// "how long from now".
  public static func clockNs(_ clock: Int32) -> UInt64? {
    var ts = timespec()
    guard clock_gettime(clockid_t(clock), &ts) == 0 else { return nil }
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
  }

  /// nanosleep(2) for `ms` milliseconds (the rest of it after a signal is
  /// not slept: callers loop on their own deadline).
  public static func sleep(ms: Int) {
    var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    nanosleep(&ts, nil)
  }

  /// nanosleep(2) for `us` microseconds.
  public static func sleep(us: Int) {
    var ts = timespec(tv_sec: us / 1_000_000, tv_nsec: (us % 1_000_000) * 1000)
    nanosleep(&ts, nil)
  }

  /// sched_yield(2)
  public static func yieldProcessor() { sched_yield() }
}
