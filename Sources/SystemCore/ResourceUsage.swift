import Glibc

/// getrusage(2) of this process.
public enum ResourceUsage {
  /// getrusage(RUSAGE_SELF).ru_maxrss: this process's peak resident set, KiB.
  public static func peakRSSKiB() -> Int {
    var u = rusage()
    return getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u) == 0 ? Int(u.ru_maxrss) : 0
  }
}
