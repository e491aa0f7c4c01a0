import ActorRuntime
import Glibc
import MiniJSON
import Supervision
import SystemCore

/// `watch`: runs any command as our child (we are its subreaper), waits up
/// to a deadline, and if it is still running — or leaves descendants behind —
/// diagnoses the tree from kernel evidence alone, then kills all of it.
public enum WatchRun {
  public struct Outcome: Sendable {
    public var verdict: Verdict
    public var commandStatus: WaitStatus?
    public var startError: String?
  }

  public static func run(command: [String], timeoutMs: Int, stacks: Bool, stdoutToStderr: Bool) -> Outcome {
    TreeReaper.becomeSubreaper()
    let signals = TerminationSignals()
    let start = Syscalls.monotonicNs()
    guard let exe = Syscalls.findExecutable(command[0]) else {
      return Outcome(verdict: emptyVerdict(command, start), commandStatus: nil, startError: "command not found: \(command[0])")
    }
    // New process group: the command's tree is ours to end, not the
    // terminal's. It keeps our fds, as under any shell.
    var child: OwnedChild
    do {
      child = try ChildLauncher.launch(
        LaunchSpec(
          executable: exe, arguments: [exe] + command.dropFirst(),
          fds: [.inherit, stdoutToStderr ? .parent(2) : .inherit, .inherit], newProcessGroup: true, keepInheritedFDs: true))
    } catch {
      return Outcome(
        verdict: emptyVerdict(command, start), commandStatus: nil,
        startError: "cannot start \(exe): \(String(cString: strerror(error.errno)))")
    }
    var status: WaitStatus? = nil
    var interrupted: Int32? = nil
    switch child.wait(untilNs: start + UInt64(timeoutMs) * 1_000_000, signals: signals) {
    case .exited(let s): status = s
    case .interrupted(let sig): interrupted = sig
    case .timedOut: break
    }
    // Orphans that already exited are reparented to us and are zombies:
    // reap them so that only live leftovers count.
    TreeReaper.reapExited()
    let alive = TreeReaper.liveDescendants()
    var v: Verdict
    if alive.isEmpty {
      v = emptyVerdict(command, start)
      v.outcome = "clean"
    } else {
      let ev = Evidence.collect(pids: alive, stackPids: stacks ? alive : [], sampleMs: 100)
      v = kernelVerdict(command, start, ev, stillRunning: status == nil, commandPid: child.pid)
    }
    v.timeoutMs = timeoutMs
    v.interrupted = interrupted
    v.killed = TreeReaper.tearDown()
    v.survivors = TreeReaper.liveDescendants()
    v.durationMs = Double(Syscalls.monotonicNs() - start) / 1e6
    if let s = status { v.notes.insert("the command exited: \(s)", at: 0) }
    return Outcome(verdict: v, commandStatus: status, startError: nil)
  }

  static func emptyVerdict(_ command: [String], _ start: UInt64) -> Verdict {
    Verdict(
      outcome: "clean", scenario: "watch: " + command.joined(separator: " "), backend: "-", runDir: "-",
      durationMs: Double(Syscalls.monotonicNs() - start) / 1e6, timeoutMs: 0, actors: [], stuck: [], waitChains: [],
      cycles: [], error: nil, rootValue: nil, unexpected: [], notes: [], blockedOn: [], terminals: [], spawnMsPerActor: nil,
      firstErrorMs: nil, teardownMs: nil, damagedLines: 0, survivors: [], killed: [], interrupted: nil)
  }

  /// A verdict from kernel evidence only: the same shape as a tree verdict.
  public static func kernelVerdict(_ command: [String], _ start: UInt64, _ ev: Evidence, stillRunning: Bool, commandPid: Int32) -> Verdict {
    var v = emptyVerdict(command, start)
    v.outcome = stillRunning ? "hang" : "leak"
    v.hasEvidence = true
    let pids = ev.processes.keys.sorted()
    var depth: [Int32: Int] = [:]
    func d(_ p: Int32) -> Int {
      if let x = depth[p] { return x }
      guard let pp = ev.processes[p]?.ppid, ev.processes[pp] != nil, pp != p else { depth[p] = 0; return 0 }
      depth[p] = 0
      let r = d(pp) + 1
      depth[p] = r
      return r
    }
    v.actors = pids.map { p in
      let pe = ev.processes[p]!
      return ActorRecord(
        pid: p, name: pe.comm, role: p == commandPid ? "command" : "process",
        parentPid: ev.processes[pe.ppid] != nil ? pe.ppid : nil, reachedExit: false, exitStatus: nil, exitCode: nil,
        lastProbe: nil, lastProbeMs: nil, diesOnPurpose: false, hardKilled: nil, depth: d(p))
    }
    v.stuck = pids
    v.waitChains = ev.chains.filter { $0.count > 1 }
    v.cycles = ev.cycles
    for p in pids {
      let pe = ev.processes[p]!
      var kernel = "\(pe.state) \(pe.syscall ?? "-")" + (pe.wchan.map { " wchan \($0)" } ?? "") + " threads \(pe.threads)"
      if let dd = pe.cpuTicksDelta, let sm = pe.sampleMs { kernel += " cpu \(dd * 10) ms in \(sm) ms" }
      let edge = ev.edges.first(where: { $0.from == p }).map { "\($0.kind) \($0.to): \($0.evidence)" }
        ?? ev.unexplained[p].map { "unexplained: \($0)" }
      v.blockedOn.append(BlockedOn(pid: p, probe: "(no probes: foreign process)", kernel: kernel, stack: pe.stack, edge: edge))
    }
    v.notes.append(contentsOf: ev.notes)
    v.terminals = HangClassifier.classify(verdict: v, byPid: [:], probeEdges: [], evidence: ev, t0: start)
    return v
  }
}
