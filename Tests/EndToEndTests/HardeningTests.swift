import CSystem
import Glibc
import MiniJSON
import Probes
import Supervision
import SystemCore
import Testing

/// Issue 12: nothing outlives the tool, Ctrl-C and internal failures have
/// their exit codes, bad input files are refused at once.
@Suite(.serialized)
struct HardeningTests {
  static let rootStuckAfterMain = #""actor":"root","site":"actor_main","ev":"RETURN""#

  /// SIGKILL of the tool while its tree hangs at the root: the keeper ends
  /// the tree; every process that was below the tool is gone within 2 s.
  @Test(.timeLimit(.minutes(2)), arguments: ["spawn", "fork", "forkserver"])
  func killedToolLeavesNoTreeBehind(backend: String) throws {
    let dir = ToolProcess.runDir("kill9-\(backend)")
    let tool = try #require(
      RunningTool(["nested-multierrors", "--backend", backend, "--fault", "never-exit@root", "--timeout", "60", "--run-dir", dir]))
    #expect(tool.waitForProbe(runDir: dir, Self.rootStuckAfterMain), "the root never got past its main")
    try expectNothingOutlives(tool)
  }

  @Test(.timeLimit(.minutes(2)))
  func killedToolLeavesNoTreeBehindUnderRun() throws {
    let dir = ToolProcess.runDir("kill9-run")
    let tool = try #require(
      RunningTool(["run", ToolProcess.fixtures + "/scenarios/ignore-cancel.json", "--backend", "forkserver", "--timeout", "60", "--run-dir", dir]))
    #expect(tool.waitForProbe(runDir: dir, #""actor":"stubborn","site":"behavior","ev":"ENTER""#))
    try expectNothingOutlives(tool)
  }

  @Test(.timeLimit(.minutes(2)))
  func killedToolLeavesNoTreeBehindUnderCompare() throws {
    let dir = ToolProcess.runDir("kill9-compare")
    let tool = try #require(
      RunningTool([
        "compare", "--backends", "forkserver,spawn", "--trials", "2", "--depth", "0", "--fault", "never-exit@root", "--timeout", "60",
        "--run-dir", dir,
      ]))
    #expect(tool.waitForProbe(runDir: dir + "/forkserver-1", Self.rootStuckAfterMain))
    try expectNothingOutlives(tool)
  }

  /// The tree as /proc shows it now, pidfds opened; SIGKILL to the tool;
  /// every one of them must have exited within 2 s.
  private func expectNothingOutlives(_ tool: RunningTool, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let tree = tool.treeWithPidfds()
    #expect(tree.count >= 2, "keeper, root (and the fork server) expected below the tool: \(tree.pids)", sourceLocation: sourceLocation)
    tool.signal(SIGKILL)
    let r = tool.finish()
    #expect(r.status == 128 + SIGKILL, sourceLocation: sourceLocation)
    let left = RunningTool.stillRunning(tree, boundMs: 2000)
    #expect(left.isEmpty, "still running 2 s after the tool was killed: \(left)", sourceLocation: sourceLocation)
    // Orphans come to the test process (a subreaper): reap them.
    for p in left { kill(p, SIGKILL) }
    TreeReaper.reapExited()
    #expect(ToolProcess.survivors().isEmpty, sourceLocation: sourceLocation)
  }

  /// A real SIGINT during a hanging run: the tree is killed and reaped,
  /// the verdict is printed, exit 130.
  @Test(.timeLimit(.minutes(2)))
  func ctrlCDuringRunExits130() throws {
    let dir = ToolProcess.runDir("sigint-run")
    let tool = try #require(
      RunningTool(["run", ToolProcess.fixtures + "/scenarios/ignore-cancel.json", "--timeout", "60", "--run-dir", dir, "--format", "json"]))
    #expect(tool.waitForProbe(runDir: dir, #""actor":"stubborn","site":"behavior","ev":"ENTER""#))
    let tree = tool.treeWithPidfds()
    tool.signal(SIGINT)
    let r = tool.finish()
    #expect(r.status == 130, "\(r.stdout) \(r.stderr)")
    #expect(RunningTool.stillRunning(tree, boundMs: 2000).isEmpty)
    let v = try #require(try? JSONParser.parse(r.stdout))
    #expect(v["interrupted"]?.int == Int64(SIGINT))
    #expect(v["exitCode"]?.int == 130)
    #expect(ToolProcess.survivors().isEmpty)
  }

  /// compare stops at the trial Ctrl-C cut: partial table, that trial marked
  /// interrupted and counted nowhere else, no later trial run, exit 130.
  @Test(.timeLimit(.minutes(2)))
  func ctrlCDuringCompareStopsAndExits130() throws {
    let dir = ToolProcess.runDir("sigint-compare")
    let tool = try #require(
      RunningTool([
        "compare", "--backends", "spawn,fork", "--trials", "3", "--scenario", ToolProcess.fixtures + "/scenarios/ignore-cancel.json",
        "--timeout", "60", "--run-dir", dir, "--format", "json",
      ]))
    #expect(tool.waitForProbe(runDir: dir + "/spawn-1", #""actor":"stubborn","site":"behavior","ev":"ENTER""#))
    tool.signal(SIGINT)
    let r = tool.finish()
    #expect(r.status == 130, "\(r.stdout) \(r.stderr)")
    let v = try #require(try? JSONParser.parse(r.stdout), "\(r.stdout) \(r.stderr)")
    let rows = v["backends"]?.array ?? []
    #expect(rows.count == 1, "no backend after the interrupted one runs")
    #expect(rows.first?["interrupted"]?.int == 1)
    #expect(rows.first?["trials"]?.int == 0)
    #expect(rows.first?["hang"]?.int == 0, "the interrupted trial is not a hang")
    #expect(Syscalls.status(dir + "/spawn-2") == nil, "no trial after the interrupted one")
    #expect(ToolProcess.survivors().isEmpty)
  }

  /// A run whose actors cannot be started is an internal failure: 70.
  @Test(.timeLimit(.minutes(1)), arguments: ["spawn", "forkserver"])
  func runThatCannotStartExits70(backend: String) throws {
    let tool = try #require(
      RunningTool(
        ["nested-multierrors", "--backend", backend, "--depth", "0", "--run-dir", ToolProcess.runDir("e70-\(backend)")],
        env: ["TRACTOR_DIAG_ACTOR=/nonexistent/tractor-actor"]))
    let r = tool.finish()
    #expect(r.status == 70, "\(r.stdout) \(r.stderr)")
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test(.timeLimit(.minutes(1)))
  func compareThatCannotStartExits70() throws {
    let tool = try #require(
      RunningTool(
        ["compare", "--backends", "spawn", "--trials", "1", "--depth", "0", "--run-dir", ToolProcess.runDir("e70-compare")],
        env: ["TRACTOR_DIAG_ACTOR=/nonexistent/tractor-actor"]))
    let r = tool.finish()
    #expect(r.status == 70, "\(r.stdout) \(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
    #expect(ToolProcess.survivors().isEmpty)
  }

  /// FIFO (no writer: a blocking open would hang), directory, device, and a
  /// file over the limit: exit 65 at once with one line.
  @Test(.timeLimit(.minutes(1)))
  func scenarioThatIsNotARegularFileOrTooLargeExits65() throws {
    let dir = ToolProcess.runDir("inputs")
    let fifo = dir + "/scenario.fifo"
    #expect(mkfifo(fifo, 0o600) == 0)
    let big = dir + "/big.json"
    try Syscalls.writeFile(big, String(repeating: " ", count: (4 << 20) + 1))
    for (path, says) in [(fifo, "FIFO"), (dir, "directory"), ("/dev/null", "device"), (big, "limit of 4 MiB")] {
      let r = ToolProcess.run(["run", path], timeoutSeconds: 20)
      #expect(r.status == 65, "\(path): \(r.stderr)")
      #expect(r.stderr.contains(says), "\(path): \(r.stderr)")
      #expect(r.stderr.split(separator: "\n").count == 1, "\(path): \(r.stderr)")
    }
  }

  /// 1023 actors (depth 7) under forkserver, clean, no fd exhaustion. One
  /// backend only: the three together would take most of the suite's time
  /// on 2 cores; `make bench` runs all three. The timeout is generous (the
  /// suite shares the machine): the assertion is the outcome, not the time.
  @Test(.timeLimit(.minutes(3)))
  func depthSevenIsCleanUnderForkserver() throws {
    let (r, v) = try ToolProcess.verdict(
      ["nested-multierrors", "--backend", "forkserver", "--depth", "7", "--timeout", "90", "--format", "json", "--run-dir", ToolProcess.runDir("d7")],
      timeoutSeconds: 150)
    #expect(r.status == 0, "\(v["outcome"]?.string ?? "") \(v["unexpected"] ?? .null) \(r.stderr)")
    #expect(v["outcome"]?.string == "clean")
    let n = v["actors"]?.array?.count ?? 0
    #expect(n > 255 && n <= 1023, "a depth-7 tree (spawners cancelled early spawn fewer): \(n)")
    #expect(!r.stderr.contains("EMFILE") && !r.stdout.contains("Too many open files"))
  }
}
