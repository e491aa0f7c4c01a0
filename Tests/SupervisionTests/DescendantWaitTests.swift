import Glibc
import Supervision
import SystemCore
import Testing

/// watch's grace and term grace: a wait on pidfds for processes below us
/// to end by themselves, bounded.
@Suite(.timeLimit(.minutes(1)))
struct DescendantWaitTests {
  @Test func seesAChildEndWithinTheBound() throws {
    var child = try ChildLauncher.launch(LaunchSpec(executable: "/bin/sh", arguments: ["/bin/sh", "-c", "exit 0"]))
    let pid = child.pid
    let w = DescendantWait.untilGone({ [pid] }, deadlineNs: Syscalls.monotonicNs() + 30_000_000_000, signals: nil)
    #expect(w.allGone)
    #expect(w.signal == nil)
    #expect(child.poll() == .exited(0))
    _ = child.tearDown(.kill(reapBoundMs: 2000))
  }

  @Test func stopsAtTheDeadlineWithTheProcessStillAlive() throws {
    var child = try ChildLauncher.launch(LaunchSpec(executable: "/bin/sleep", arguments: ["/bin/sleep", "60"]))
    let pid = child.pid
    let w = DescendantWait.untilGone({ [pid] }, deadlineNs: Syscalls.monotonicNs() + 50_000_000, signals: nil)
    #expect(!w.allGone)
    #expect(w.ended.isEmpty)
    #expect(child.poll() == nil, "still running: the wait never signals")
    #expect(child.tearDown(.kill(reapBoundMs: 2000)) != nil)
  }
}
