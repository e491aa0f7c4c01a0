import SystemCore

/// The one way a command names a run directory it was not given:
/// `tractor-diag-runs/PREFIXPID-NNNNNN` (run, nested-multierrors: no
/// prefix; compare: `compare-`; watch: `watch-`).
public enum RunDirectoryName {
  public static func fresh(prefix: String = "") -> String {
    "tractor-diag-runs/\(prefix)\(Syscalls.pid)-\(Syscalls.monotonicNs() % 1_000_000)"
  }
}
