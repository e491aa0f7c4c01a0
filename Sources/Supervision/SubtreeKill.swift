import Glibc
import SystemCore

extension TreeReaper {
  /// Ends every live descendant of `pid` (not `pid` itself) the way the tree
  /// kill does (SIGSTOP all, collect again, SIGKILL through pidfds, poll the
  /// pidfds, bounded), but reaps nothing: this runs on watch's control
  /// thread while the main thread owns waitpid (a reap here could take the
  /// command's exit status from it). The killed processes' parent (pytest)
  /// reaps its own children; orphans are reaped by watch's main thread at
  /// its end. Returns the pids it killed, sorted.
  public static func killDescendants(of pid: Int32, boundMs: Int = 3000) -> [Int32] {
    Array(Set(escalate({ liveDescendants(of: pid) }, boundMs: boundMs, reap: false))).sorted()
  }
}
