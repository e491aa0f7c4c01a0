import ActorRuntime
import Glibc
import KernelEvidence
import MiniJSON
import Supervision
import SystemCore

/// `watch`: runs any command as our child (we are its subreaper), waits up
/// to a deadline, and if it is still running — or leaves descendants behind
/// after the grace — diagnoses the tree from kernel evidence alone, then
/// ends all of it: SIGTERM to the command's process group, SIGKILL after
/// the term grace, then the tree kill.
public enum WatchRun {
  public struct Options: Sendable {
    public var timeoutMs: Int
    /// After the command exits: how long its descendants may take to end.
    public var graceMs: Int
    /// After the SIGTERM to the command's process group: how long before SIGKILL.
    public var termGraceMs: Int
    public var stacks: Bool
    public var stdoutToStderr: Bool
    /// --control: answer diagnosis requests from the command's processes (WatchControl).
    public var control: WatchControl.Config? = nil

    // Time in watch (WatchSchedule.swift, WatchRecorder.swift,
    // WatchRunDirectory.swift): where the run's files go, what is looked at
    // while the command runs, and a line on stderr for each snapshot.
    public var runDir: WatchRunDirectory? = nil
    public var schedule = WatchSchedule()
    public var snapshotter: WatchSnapshotter? = nil
    public var log: (@Sendable (String) -> Void)? = nil
    /// The command's fds 0-2 instead of watch's (compare --watch: a file per trial).
    public var commandFDs: [ProcessControl.ChildFD]? = nil
    /// tractor-actor, to run the TreeKeeper; nil: no keeper (the command
    /// leads a group of its own, and a SIGKILL of watch leaves it running).
    public var keeperExecutable: String?

    public init(
      timeoutMs: Int, graceMs: Int = 2000, termGraceMs: Int = 1000, stacks: Bool, stdoutToStderr: Bool,
      keeperExecutable: String? = nil
    ) {
      self.keeperExecutable = keeperExecutable
      self.timeoutMs = timeoutMs
      self.graceMs = graceMs
      self.termGraceMs = termGraceMs
      self.stacks = stacks
      self.stdoutToStderr = stdoutToStderr
    }
  }

  public struct Outcome: Sendable {
    public var verdict: Verdict
    public var commandStatus: WaitStatus?
    public var startError: String?
    /// The start failed on our side (the keeper), not the command's: exit 70.
    public var internalError = false
    /// From the deadline to the verdict (snapshot, stacks, classes), before
    /// the teardown; nil when the command did not outlive the deadline.
    public var deadlineToVerdictMs: Double? = nil
    /// CLOCK_MONOTONIC: the start, when the command exited (nil if it did
    /// not), and the end (tree ended, verdict built).
    public var startNs: UInt64 = 0
    public var commandExitNs: UInt64? = nil
    public var endNs: UInt64 = 0
    public var commandPid: Int32? = nil
    /// What the recorder did (samples, their cost, snapshots).
    public var recorder: WatchRecorder? = nil
  }

  public static func run(command: [String], options o: Options) -> Outcome {
    TreeReaper.becomeSubreaper()
    let signals = TerminationSignals()
    let start = Syscalls.monotonicNs()
    guard let exe = Syscalls.findExecutable(command[0]) else {
      return Outcome(verdict: emptyVerdict(command, start), commandStatus: nil, startError: "command not found: \(command[0])")
    }
    // The keeper first (TreeKeeper): the command joins the keeper's process
    // group instead of leading one of its own, so a SIGKILL of watch still
    // ends the tree. That group is still not the terminal's: the command's
    // tree is ours to end (the group gets the SIGTERM; the keeper ignores
    // it and dies of the SIGKILL), and the terminal's Ctrl-C comes to us,
    // not to it. The keeper is left out of every walk of the tree
    // (TreeReaper.liveDescendants).
    var keeper: Int32? = nil
    if let k = o.keeperExecutable {
      do { keeper = try TreeKeeper.start(executable: k).pid } catch {
        var out = Outcome(verdict: emptyVerdict(command, start), commandStatus: nil, startError: "the tree keeper did not start: \(error)")
        out.internalError = true
        return out
      }
    }
    // The command gets our stdio, cwd, environment and the signal state we
    // were started with, and none of our other fds.
    var child: OwnedChild
    // --control: the socket exists (and its path is in our environment)
    // before the command starts; served once its pid is known.
    let control = controlServer(o.control, t0: start)
    do {
      child = try ChildLauncher.launch(
        LaunchSpec(
          executable: exe, arguments: [exe] + command.dropFirst(),
          fds: o.commandFDs ?? [.inherit, o.stdoutToStderr ? .parent(2) : .inherit, .inherit], newProcessGroup: keeper == nil,
          callerSignals: true, processGroup: keeper ?? 0))
    } catch {
      control?.stop()
      TreeReaper.tearDown()  // the keeper
      return Outcome(
        verdict: emptyVerdict(command, start), commandStatus: nil,
        startError: "cannot start \(exe): \(String(cString: strerror(error.errno)))")
    }
    let pgid = keeper ?? child.pid
    control?.serve(commandPid: child.pid)
    var status: WaitStatus? = nil
    var interrupted: Int32? = nil
    var lingering: [LingeringProcess] = []
    let deadline = start + UInt64(o.timeoutMs) * 1_000_000
    let recorder = WatchRecorder(o.schedule, startNs: start, dir: o.runDir, snapshotter: o.snapshotter, log: o.log)
    // Woken for each sample and snapshot due before the deadline (none: one wait).
    waiting: while true {
      switch child.wait(untilNs: recorder.nextNs(limitNs: deadline), signals: signals) {
      case .exited(let s): status = s
      case .interrupted(let sig): interrupted = sig
      case .timedOut:
        if Syscalls.monotonicNs() < deadline {
          recorder.runDue(tree: tree())
          continue waiting
        }
      }
      break
    }
    control?.stop()
    var commandExitNs: UInt64? = nil
    if status != nil {
      // What the command left gets the grace to end by itself: a lingering
      // process, not a leak. Named now, while it is alive.
      let exitedAt = Syscalls.monotonicNs()
      commandExitNs = exitedAt
      TreeReaper.reapExited()
      var names: [Int32: String] = [:]
      for p in TreeReaper.liveDescendants() { names[p] = identity(p).name }
      recorder.sample(tree: tree())
      let w = WatchGrace.wait(deadlineNs: exitedAt + UInt64(o.graceMs) * 1_000_000, signals: signals, recorder: recorder)
      interrupted = w.signal
      lingering = w.ended.map {
        LingeringProcess(pid: $0.pid, name: names[$0.pid] ?? "pid \($0.pid)", ms: Double($0.atNs &- exitedAt) / 1e6)
      }
    }
    // Orphans that already exited are reparented to us and are zombies:
    // reap them so that only live leftovers count.
    TreeReaper.reapExited()
    let alive = TreeReaper.liveDescendants()
    var v: Verdict
    // SIGTERM or SIGHUP to watch: no snapshot, the same end.
    let snapshot = !alive.isEmpty && (interrupted == nil || interrupted == SIGINT)
    if snapshot {
      let ev = Evidence.collect(pids: alive, stackPids: o.stacks ? alive : [], sampleMs: 100)
      var argv: [Int32: [String]] = [:]
      for p in ev.processes.keys { argv[p] = cmdline(p) }
      v = ForeignTreeVerdict.build(
        command: command, evidence: ev, stillRunning: status == nil, commandPid: child.pid, t0: start, argv: argv)
      let when = interrupted != nil ? "at the interruption" : (status == nil ? "at the deadline" : "after the grace")
      o.runDir?.writeEvidence(ev, note: "kernel evidence taken \(when)")
    } else {
      v = emptyVerdict(command, start)
      v.outcome = alive.isEmpty ? "clean" : (status == nil ? "hang" : "leak")
      if !alive.isEmpty { v.notes.append("no snapshot: watch was ended by signal \(interrupted ?? 0)") }
    }
    let verdictNs = Syscalls.monotonicNs()
    // A Ctrl-C during the snapshot (the second one) skips the term grace.
    if interrupted != nil, let again = signals?.take() { v.notes.append("signal \(again) again: killed at once") }
    else { v.notes += politeEnd(group: pgid, termGraceMs: o.termGraceMs, signals: signals) }
    v.timeoutMs = o.timeoutMs
    v.interrupted = interrupted
    v.lingering = lingering
    v.killed = Array(Set(alive + TreeReaper.tearDown())).filter { $0 != keeper }.sorted()
    v.survivors = TreeReaper.liveDescendants()
    v.durationMs = Double(Syscalls.monotonicNs() - start) / 1e6
    if let s = status { v.notes.insert("the command exited: \(s)", at: 0) }
    switch v.outcome {
    case "hang": v.notes.append("the command outlived the \(Double(o.timeoutMs) / 1000) s timeout")
    case "leak": v.notes.append("the command finished but left these processes running after the \(Double(o.graceMs) / 1000) s grace")
    default: break
    }
    v.exitCodeOverride = exitCode(v, status)
    if let d = o.runDir { v.runDir = d.path }
    let toVerdict = status == nil && interrupted == nil ? Double(verdictNs &- deadline) / 1e6 : nil
    var out = Outcome(verdict: v, commandStatus: status, startError: nil, deadlineToVerdictMs: toVerdict)
    (out.startNs, out.commandExitNs, out.endNs, out.commandPid) = (start, commandExitNs, Syscalls.monotonicNs(), child.pid)
    out.recorder = recorder
    o.runDir?.write(out, timeoutMs: o.timeoutMs)
    return out
  }

  /// The processes of the watched tree: everything below us that is alive
  /// (the command, what it started, orphans reparented to us).
  static func tree() -> [Int32] { TreeReaper.liveDescendants() }

  /// The exit code a CI job can tell apart: the command's own when it
  /// finished in time and left nothing; 124 past the deadline; 3 when it
  /// left processes after the grace; 130 on Ctrl-C, 128+N on signal N.
  static func exitCode(_ v: Verdict, _ status: WaitStatus?) -> Int32 {
    if let sig = v.interrupted { return sig == SIGINT ? Exit.interrupted : Exit.signaled(sig) }
    switch v.outcome {
    case "hang": return Exit.outlivedDeadline
    case "leak": return Exit.leftProcessesBehind
    default: return status.map { Int32($0.code) } ?? Exit.clean
    }
  }

  /// SIGTERM to the command's process group, up to `termGraceMs` for it to
  /// go (a test runner writes its report), then SIGKILL to the group (the
  /// keeper, its leader, ignores the SIGTERM and dies of the SIGKILL). A
  /// termination signal during the wait ends it at once. Returns notes.
  static func politeEnd(group pgid: Int32, termGraceMs: Int, signals: TerminationSignals?) -> [String] {
    guard !DescendantWait.groupMembers(pgid).isEmpty else { return [] }
    guard termGraceMs > 0 else {
      Syscalls.kill(-pgid, SIGKILL)
      return []
    }
    Syscalls.kill(-pgid, SIGTERM)
    let w = DescendantWait.untilGone(
      { DescendantWait.groupMembers(pgid) }, deadlineNs: Syscalls.monotonicNs() + UInt64(termGraceMs) * 1_000_000,
      signals: signals)
    Syscalls.kill(-pgid, SIGKILL)
    if w.allGone { return ["the command's process group ended on SIGTERM"] }
    return ["the command's process group got SIGTERM, then SIGKILL" + (w.signal.map { " at once (signal \($0))" } ?? " after \(termGraceMs) ms")]
  }

  /// /proc/PID/cmdline as argv (empty for a zombie or a vanished process).
  static func cmdline(_ pid: Int32) -> [String] {
    guard let b = Syscalls.readFile("/proc/\(pid)/cmdline", limit: 1 << 16), !b.isEmpty else { return [] }
    var parts = b.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    while parts.last == "" { parts.removeLast() }
    return parts
  }

  static func identity(_ pid: Int32) -> ProcessIdentity {
    let comm = Syscalls.readFile("/proc/\(pid)/comm", limit: 64).map { String(decoding: $0, as: UTF8.self) } ?? ""
    let ppid = ProcStat.read(pid: pid)?.ppid
    return ProcessNaming.identify(
      argv: cmdline(pid), comm: comm.hasSuffix("\n") ? String(comm.dropLast()) : comm, parentArgv: ppid.map(cmdline))
  }

  /// The control socket, or nil with a one-line warning (the command still runs;
  /// its clients find no TRACTOR_DIAG_CONTROL and say so).
  static func controlServer(_ c: WatchControl.Config?, t0: UInt64) -> WatchControl? {
    guard let c else { return nil }
    do { return try WatchControl.open(c, t0: t0) } catch {
      Syscalls.write("tractor-diag watch: no control socket: \(error)\n", to: 2)
      return nil
    }
  }

  static func emptyVerdict(_ command: [String], _ start: UInt64) -> Verdict {
    ForeignTreeVerdict.empty(command: command, durationMs: Double(Syscalls.monotonicNs() - start) / 1e6)
  }
}
