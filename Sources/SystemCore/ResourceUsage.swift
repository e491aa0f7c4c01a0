import Glibc

/// getrusage(2) of this process.
public enum ResourceUsage {
  /// getrusage(RUSAGE_SELF).ru_maxrss: this process's peak resident set, KiB.
  public static func peakRSSKiB() -> Int {
    var u = rusage()
    return getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u) == 0 ? Int(u.ru_maxrss) : 0
  }

  /// getrusage(RUSAGE_SELF) + getrusage(RUSAGE_CHILDREN): user + system CPU
  /// time of this process and of every descendant reaped so far (a child's
  /// figure includes what it reaped itself), in ns.
  public static func cpuNsWithReapedChildren() -> UInt64 {
    var total: UInt64 = 0
    for who in [RUSAGE_SELF, RUSAGE_CHILDREN] {
      var u = rusage()
      guard getrusage(__rusage_who_t(who.rawValue), &u) == 0 else { continue }
      for t in [u.ru_utime, u.ru_stime] { total += UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_usec) * 1000 }
    }
    return total
  }
}
