import Glibc
import Supervision
import SystemCore
import TestSupport
import Testing

/// Issue 12: SIGKILL of `watch` leaves nothing of its command's tree (the
/// TreeKeeper leads the command's process group and kills it when watch
/// dies). The leak check is RunningTool's own /proc walk with pidfds
/// opened before the kill, not the product's tree walk.
@Suite(.serialized)
struct WatchKeeperTests {
  /// A shell with a sleeping child and a child shell that has two sleeping
  /// children of its own: the command's grandchildren.
  static let tree = "sleep 60 & /bin/sh -c 'sleep 60 & sleep 60; wait' & wait"

  @Test(.timeLimit(.minutes(1)))
  func killedWatchLeavesNoTreeBehind() throws {
    let tool = try #require(RunningTool(["watch", "--timeout", "60", "--no-stacks", "--", "/bin/sh", "-c", Self.tree]))
    // watch -> sh -> sh -> sleep: wait until both grandchildren exist.
    #expect(
      SpawnedTree.waitUntil(timeoutMs: 30_000) { Self.atDepth(3, below: tool.pid).count >= 2 },
      "the command's grandchildren never appeared")
    try expectNothingOutlivesKill(tool, atLeast: 6)
  }

  /// The keeper ignores the SIGTERM that watch sends to the command's
  /// group at the deadline: a SIGKILL of watch during the term grace still
  /// ends the tree. The command's shell records the SIGTERM in a file; its
  /// sleeping child ignores it and lives on through the grace.
  @Test(.timeLimit(.minutes(1)))
  func killedWatchDuringTheTermGraceLeavesNoTreeBehind() throws {
    let dir = ToolProcess.runDir("watch-keeper-term")
    let mark = dir + "/term"
    let script = "trap '' TERM; sleep 60 & trap 'echo term > \(mark)' TERM; wait; wait"
    let tool = try #require(
      RunningTool(["watch", "--timeout", "1", "--term-grace", "60", "--no-stacks", "--", "/bin/sh", "-c", script]))
    #expect(
      SpawnedTree.waitUntil(timeoutMs: 30_000) { Syscalls.readFile(mark) != nil },
      "the command never got watch's SIGTERM")
    try expectNothingOutlivesKill(tool, atLeast: 3)
  }

  /// The tree below the tool as the test's own /proc walk shows it now
  /// (pidfds opened); SIGKILL to watch; every one of them must have exited
  /// within 2 s (checked before reading watch's output: the command holds
  /// watch's stdout, so EOF comes only once the tree is gone).
  private func expectNothingOutlivesKill(
    _ tool: RunningTool, atLeast: Int, sourceLocation: SourceLocation = #_sourceLocation
  ) throws {
    let tree = tool.treeWithPidfds()
    #expect(tree.count >= atLeast, "the keeper and the command's tree expected below watch: \(tree.pids)", sourceLocation: sourceLocation)
    tool.signal(SIGKILL)
    let left = RunningTool.stillRunning(tree, boundMs: 2000)
    #expect(left.isEmpty, "still running 2 s after watch was killed: \(left)", sourceLocation: sourceLocation)
    for p in left { kill(p, SIGKILL) }
    let r = tool.finish(timeoutSeconds: 10)
    #expect(r.status == 128 + SIGKILL, sourceLocation: sourceLocation)
    // Orphans come to the test process (a subreaper): reap them.
    TreeReaper.reapExited()
    #expect(ToolProcess.survivors().isEmpty, sourceLocation: sourceLocation)
  }

  /// Live processes exactly `depth` ppid links below `root` (1: its children).
  static func atDepth(_ depth: Int, below root: pid_t) -> [pid_t] {
    ProcessTree.liveDescendants(of: root).filter { p in
      var q = p
      for _ in 0..<depth {
        guard let up = ProcessTree.parentAndState(q)?.ppid else { return false }
        q = up
      }
      return q == root
    }
  }
}
