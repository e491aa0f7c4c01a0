import Glibc
import SystemCore

/// The processes below us, and the one robust way to end them all.
public enum ProcessTree {
  /// Statuses collected by `reapAll` (waitpid(-1)) for children whose owner
  /// had not reaped them yet.
  nonisolated(unsafe) public static var reapedElsewhere: [Int32: WaitStatus] = [:]

  public static func children(of pid: Int32) -> [Int32] { ProcessList.children(of: pid) }
  public static func descendants(of pid: Int32) -> [Int32] { ProcessList.descendants(of: pid) }
  public static func state(_ pid: Int32) -> Character? { ProcessList.state(pid) }

  /// Live (non-zombie) descendants.
  public static func liveDescendants(of pid: Int32) -> [Int32] {
    descendants(of: pid).filter { if let s = state($0) { return s != "Z" && s != "X" }; return false }
  }

  /// Kills every descendant of this process and reaps them. We are a child
  /// subreaper, so orphans (including ones that called setsid) are ours.
  /// 1. SIGSTOP all first: a frozen tree cannot fork new members while we
  ///    collect it. 2. Collect again (stopping may have raced a fork).
  /// 3. SIGKILL through pidfds (no pid-reuse race). 4. Reap, bounded.
  /// Returns the pids that were killed.
  @discardableResult
  public static func killAll(boundMs: Int = 5000) -> [Int32] {
    let me = Syscalls.pid
    var killed: [Int32] = []
    for _ in 0..<4 {
      let first = descendants(of: me)
      if first.isEmpty { break }
      for p in first { Syscalls.kill(p, SIGSTOP) }
      let all = Set(first + descendants(of: me))
      for p in all {
        do {
          let fd = try Syscalls.pidfdOpen(p)
          Syscalls.pidfdSignal(fd.rawValue, SIGKILL)
        } catch {
          Syscalls.kill(p, SIGKILL)
        }
        killed.append(p)
      }
      reapAll(boundMs: boundMs)
    }
    return Array(Set(killed)).sorted()
  }

  /// Reaps every exited child until none is left or the bound passes.
  public static func reapAll(boundMs: Int) {
    let until = Syscalls.monotonicNs() + UInt64(boundMs) * 1_000_000
    while true {
      switch Syscalls.reapIfExited(-1) {
      case .exited(let p, let status):
        reapedElsewhere[p] = status
        continue
      case .noChild: return  // ECHILD: nothing left
      case .running: break
      }
      if Syscalls.monotonicNs() > until { return }
      Syscalls.sleep(ms: 1)
    }
  }
}
