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
    func live() -> [Int32] {
      descendants(of: pid).filter { state($0).map { $0 != "Z" && $0 != "X" } ?? false }
    }
    var killed: Set<Int32> = []
    for _ in 0..<4 {
      let first = live()
      if first.isEmpty { break }
      for p in first { Syscalls.kill(p, SIGSTOP) }
      let pidfds = PidfdSet()
      for p in Set(first + live()).sorted() {
        if let fd = try? Syscalls.pidfdOpen(p) {
          Syscalls.pidfdSignal(fd.rawValue, SIGKILL)
          pidfds.add(fd)
        } else {
          Syscalls.kill(p, SIGKILL)
        }
        killed.insert(p)
      }
      // A pidfd turns readable when its process has exited (a zombie is enough).
      let until = Syscalls.monotonicNs() + UInt64(boundMs) * 1_000_000
      var pending = pidfds.fds
      while !pending.isEmpty {
        let now = Syscalls.monotonicNs()
        if now >= until { break }
        let rev = ProcessControl.poll(pending.map { ($0, Int16(POLLIN)) }, timeoutMs: Int32(min(50, (until - now) / 1_000_000 + 1)))
        pending = zip(pending, rev).filter { $0.1 == 0 }.map(\.0)
      }
    }
    return killed.sorted()
  }
}
