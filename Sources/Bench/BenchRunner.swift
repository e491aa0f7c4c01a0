import Glibc
import Reports
import Supervision
import SystemCore

/// `tractor-diag bench`: medians of spawn-to-verdict, per-actor spawn cost,
/// probe cost and snapshot/stack cost, each against its target and against
/// baselines measured in the same invocation. Every process started here is
/// a child of this process (a subreaper), and is killed and reaped through
/// the Supervision module, also on Ctrl-C.
public final class BenchRunner {
  let runs: Int
  let quick: Bool
  let baseDir: String
  let actorExecutable: String?
  let onInterrupt: (Int32) -> Never
  var rows: [BenchRow] = []
  var notes: [String] = []
  /// Roots (each leading its own process group) of processes started here that may still be alive.
  var live: [Int32] = []
  var devNull: Int32 = -1
  var threadsAtStart: Int32 = 0
  let startNs = Syscalls.monotonicNs()
  var totalMs: Double = 0
  var signals: TerminationSignals? = nil
  var forkBaselineMs: Double? = nil
  var posixSpawnBaselineMs: Double? = nil
  /// Which stage runs, on stderr when it is a terminal (a full bench takes about a minute).
  let progress = ProgressLine("bench")

  static let backends = ["spawn", "fork", "forkserver"]

  /// The parts `--only` can select, in the order they run.
  public static let sections = ["baselines", "probe", "snapshot", "watch", "python", "trees", "large-tree"]
  /// The parts to run (empty: all).
  public var only: Set<String> = []

  /// `actorExecutable`: tractor-actor (nil: the tree runs are skipped with
  /// a note). `onInterrupt` gets the signal after everything started here
  /// has been killed and reaped.
  public init(runs: Int, quick: Bool, actorExecutable: String?, onInterrupt: @escaping (Int32) -> Never) {
    self.runs = runs
    self.quick = quick
    self.actorExecutable = actorExecutable
    self.onInterrupt = onInterrupt
    baseDir = "/tmp/tractor-diag-bench/\(getpid())"
  }

  public func runAll() {
    // Ctrl-C must still end with every process started here dead and reaped:
    // the termination signals are held (a tree run reads them too) and
    // checked between measurements. As a child subreaper, orphans of the
    // trees started here come back to us to be reaped.
    signals = TerminationSignals()
    TreeReaper.becomeSubreaper()
    devNull = (try? Syscalls.open("/dev/null", O_RDWR))?.take() ?? -1
    do { try Syscalls.makeDirectories(baseDir) } catch { notes.append("cannot create \(baseDir): \(error)") }
    // Each run dir in its own block group, away from files deleted lately
    // (an earlier bench's cleanup, other runs' tests): on a journal-less
    // ext4 (/tmp here) creating a file searches past every inode of its
    // group deleted in the last minutes. A depth-7 run after 10,000
    // deletions beside it: 2.57 s CPU; in a run dir spread away: 1.8-2.1 s.
    Syscalls.markTopDirectory(baseDir)

    func wants(_ s: String) -> Bool { only.isEmpty || only.contains(s) }
    // (section for --only, what the progress line says, the measurement)
    let stages: [(String, String, () -> Void)] = [
      ("baselines", "spawn baselines", spawnBaselines), ("probe", "probe cost", probeCost),
      ("snapshot", "snapshot and stack costs", snapshotCosts), ("watch", "watch deadline to verdict", watchDeadlineToVerdict),
      ("python", "Python stacks against py-spy", pythonStackCosts),  // PythonStacksBench.swift
      ("trees", "tree runs", treeRuns), ("large-tree", "depth-7 trees", largeTreeRuns),
    ]
    // The trees' per-actor rows compare with the spawn baselines.
    let chosen = stages.filter { wants($0.0) || ($0.0 == "baselines" && wants("trees")) }
    for (i, (_, name, stage)) in chosen.enumerated() {
      progress.show("\(i + 1)/\(chosen.count) \(name)")
      stage()
      checkInterrupt()
    }
    progress.clear()

    cleanup()
    totalMs = Double(Syscalls.monotonicNs() - startNs) / 1e6
  }

  // MARK: Safety

  func checkInterrupt() {
    if let s = signals?.take() { interrupted(s) }
  }

  func interrupted(_ sig: Int32) -> Never {
    progress.clear()
    cleanup()
    onInterrupt(sig)
  }

  func cleanup() {
    TreeReaper.tearDown(.kill(reapBoundMs: 2000))
    live.removeAll()
    drainChildren(deadlineMs: 2000)
    ScratchDirectory.remove(baseDir)
    ScratchDirectory.removeIfEmpty("/tmp/tractor-diag-bench")  // only when no other bench uses it
    if devNull >= 0 {
      _ = FileDescriptor(adopting: devNull)  // closes it
      devNull = -1
    }
  }

  /// SIGKILLs `root` and every descendant (frozen first, through pidfds), then reaps.
  func killTree(_ root: Int32) {
    TreeReaper.tearDown(.kill(reapBoundMs: 2000), root: root)
    live.removeAll { $0 == root }
  }

  /// Reaps every child (our own and orphans reparented to us), bounded.
  func drainChildren(deadlineMs: Int) {
    TreeReaper.reapAll(boundMs: deadlineMs)
    if deadlineMs > 0 && !TreeReaper.children(of: getpid()).isEmpty {
      notes.append("children still unreaped after \(deadlineMs) ms")
    }
  }

  // MARK: Process helpers

  /// posix_spawn with stdio on /dev/null, an empty signal mask, default dispositions.
  func spawn(_ argv: [String], newGroup: Bool) -> OwnedChild? {
    let null: ProcessControl.ChildFD = devNull >= 0 ? .parent(devNull) : .inherit
    do {
      return try ChildLauncher.launch(
        LaunchSpec(executable: argv[0], arguments: argv, fds: [.inherit, null, null], newProcessGroup: newGroup))
    } catch {
      notes.append("posix_spawn \(argv[0]) failed: \(String(cString: strerror(error.errno)))")
      return nil
    }
  }

  /// Waits for `child` at most `timeoutMs` after `since`; kills its tree when
  /// late. Returns the elapsed ns since `since` when it exited, nil on timeout.
  func waitChild(_ child: inout OwnedChild, since: UInt64, timeoutMs: Int) -> (ns: UInt64, status: WaitStatus)? {
    if case .exited(let s) = child.wait(untilNs: since + UInt64(timeoutMs) * 1_000_000) {
      return (Syscalls.monotonicNs() - since, s)
    }
    killTree(child.pid)
    return nil
  }

  static func exeName(_ pid: Int32) -> String {
    let path = ProcessControl.executablePath(of: pid) ?? ""
    return String(path.split(separator: "/").last ?? "")
  }

  func nowNs() -> UInt64 { Syscalls.monotonicNs() }
}
