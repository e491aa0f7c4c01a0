import Glibc
import SystemCore

/// Everything below this process, and the one robust way to end it all.
/// A supervisor first calls `becomeSubreaper()`: orphans of its tree, also
/// ones that called setsid, are then reparented to it instead of to init,
/// so "below us" includes them and the teardown catches them.
public enum TreeReaper {
  /// Exit statuses collected by waitpid(-1) for children whose owner (an
  /// OwnedChild, a ChildProcess) had not reaped them yet; owners read them
  /// here when their own waitid finds the child gone.
  nonisolated(unsafe) public static var reaped: [Int32: WaitStatus] = [:]

  /// prctl(PR_SET_CHILD_SUBREAPER).
  @discardableResult
  public static func becomeSubreaper() -> Bool { ProcessControl.becomeChildSubreaper() }

  public static func children(of pid: Int32) -> [Int32] { ProcessList.children(of: pid) }
  public static func descendants(of pid: Int32) -> [Int32] { ProcessList.descendants(of: pid) }
  public static func state(_ pid: Int32) -> Character? { ProcessList.state(pid) }

  /// The TreeKeeper this process started last (set by `TreeKeeper.start`).
  /// It is our child but not part of the tree it guards.
  nonisolated(unsafe) public static var keeper: Int32? = nil

  /// Live (non-zombie) descendants, the keeper left out: every walk of
  /// what a tree holds (evidence, leak and lingering checks, group members)
  /// goes through here. `tearDown` still kills the keeper.
  public static func liveDescendants(of pid: Int32 = getpid()) -> [Int32] {
    descendants(of: pid).filter {
      if $0 == keeper { return false }
      if let s = state($0) { return s != "Z" && s != "X" }
      return false
    }
  }

  /// Ends every descendant of this process (or only `root` and its
  /// descendants) with the ladder, and reaps them. Returns the pids killed
  /// by `.escalate`, sorted.
  @discardableResult
  public static func tearDown(_ ladder: TeardownLadder = .kill(), root: Int32? = nil) -> [Int32] {
    let me = getpid()
    func members() -> [Int32] {
      guard let root else { return descendants(of: me) }
      return state(root) == nil ? [] : [root] + descendants(of: root)
    }
    var killed: [Int32] = []
    for step in ladder.steps {
      let live = members().filter { state($0).map { $0 != "Z" && $0 != "X" } ?? false }
      if live.isEmpty { break }
      switch step {
      case .signal(let sig):
        for p in live { signal(p, sig) }
      case .wait(let ms):
        waitGone(live, boundMs: ms)
      case .escalate:
        killed += escalate(members, boundMs: ladder.reapBoundMs)
      }
    }
    reapExited()
    if let k = keeper, state(k) == nil { keeper = nil }  // gone and reaped: its pid may be reused
    return Array(Set(killed)).sorted()
  }

  /// The tree kill. 1. SIGSTOP all first: a frozen tree cannot fork new
  /// members while we collect it. 2. Collect again (stopping may have raced
  /// a fork). 3. pidfd_open each and SIGKILL through the pidfd (no pid-reuse
  /// race). 4. Poll every pidfd until all have exited, bounded, reaping as
  /// they go (unless `reap` is false: see `killDescendants`). Repeated (up
  /// to 4 rounds) while members remain.
  static func escalate(_ members: () -> [Int32], boundMs: Int, reap: Bool = true) -> [Int32] {
    var killed: [Int32] = []
    for _ in 0..<4 {
      let first = members()
      if first.isEmpty { break }
      for p in first { Syscalls.kill(p, SIGSTOP) }
      let all = Set(first + members())
      let pidfds = PidfdSet()
      for p in all.sorted() {
        if let fd = try? Syscalls.pidfdOpen(p) {
          Syscalls.pidfdSignal(fd.rawValue, SIGKILL)
          pidfds.add(fd)
        } else {
          Syscalls.kill(p, SIGKILL)  // already a zombie, or gone
        }
        killed.append(p)
      }
      waitExited(pidfds.fds, boundMs: boundMs, reap: reap)
    }
    return killed
  }

  /// Polls the pidfds until every process has exited or the bound passes,
  /// reaping our children as they exit (a killed parent's children are
  /// reparented to us before its pidfd turns readable).
  private static func waitExited(_ pidfds: [Int32], boundMs: Int, reap: Bool = true) {
    let until = Syscalls.monotonicNs() + UInt64(boundMs) * 1_000_000
    var pending = pidfds
    while true {
      if reap { reapExited() }
      if pending.isEmpty { return }
      let now = Syscalls.monotonicNs()
      if now >= until { return }
      let revents = ProcessControl.poll(pending.map { ($0, Int16(POLLIN)) }, timeoutMs: Int32(min(50, (until - now) / 1_000_000 + 1)))
      pending = zip(pending, revents).filter { $0.1 == 0 }.map(\.0)
    }
  }

  /// Waits until none of `pids` is alive (our children reaped), bounded.
  private static func waitGone(_ pids: [Int32], boundMs: Int) {
    let pidfds = PidfdSet()
    for p in pids { if let fd = try? Syscalls.pidfdOpen(p) { pidfds.add(fd) } }
    waitExited(pidfds.fds, boundMs: boundMs)
  }

  private static func signal(_ pid: Int32, _ sig: Int32) {
    if let fd = try? Syscalls.pidfdOpen(pid) { Syscalls.pidfdSignal(fd.rawValue, sig) } else { Syscalls.kill(pid, sig) }
  }

  /// Reaps every child that has already exited (never waits).
  public static func reapExited() {
    while case .reaped(let p, let s) = ProcessControl.reapAny() { reaped[p] = s }
  }

  /// Reaps every exited child until none is left at all or the bound passes.
  public static func reapAll(boundMs: Int) {
    let until = Syscalls.monotonicNs() + UInt64(boundMs) * 1_000_000
    while true {
      switch ProcessControl.reapAny() {
      case .reaped(let p, let s):
        reaped[p] = s
        continue
      case .noChildren: return
      case .running:
        if Syscalls.monotonicNs() > until { return }
        ProcessControl.sleep(ms: 1)
      }
    }
  }
}

/// pidfds held together while a tree is ended, closed together.
final class PidfdSet {
  private(set) var fds: [Int32] = []
  func add(_ fd: consuming FileDescriptor) { fds.append(fd.take()) }
  deinit { for fd in fds { _ = FileDescriptor(adopting: fd) } }  // each closes as it dies
}
