/// A verdict from kernel evidence only (a foreign tree under `watch`): the
/// same shape as a tree verdict, with processes for actors and no probes.
public enum ForeignTreeVerdict {
  /// Nothing found yet: `outcome` clean, no processes.
  public static func empty(command: [String], durationMs: Double) -> Verdict {
    Verdict(
      outcome: "clean", scenario: "watch: " + command.joined(separator: " "), backend: "-", runDir: "-",
      durationMs: durationMs, timeoutMs: 0, actors: [], stuck: [], waitChains: [], cycles: [], error: nil, rootValue: nil,
      unexpected: [], notes: [], blockedOn: [], terminals: [], spawnMsPerActor: nil, firstErrorMs: nil, teardownMs: nil,
      damagedLines: 0, survivors: [], killed: [], interrupted: nil)
  }

  /// The verdict on the processes in `ev`: a hang while the command still
  /// runs, a leak once it has exited.
  public static func build(command: [String], evidence ev: Evidence, stillRunning: Bool, commandPid: Int32, t0: UInt64)
    -> Verdict
  {
    var v = empty(command: command, durationMs: 0)
    v.outcome = stillRunning ? "hang" : "leak"
    v.hasEvidence = true
    let pids = ev.processes.keys.sorted()
    var depth: [Int32: Int] = [:]
    func d(_ p: Int32) -> Int {
      if let x = depth[p] { return x }
      guard let pp = ev.processes[p]?.ppid, ev.processes[pp] != nil, pp != p else {
        depth[p] = 0
        return 0
      }
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
    v.waitChains = ev.graph.chains.filter { $0.count > 1 }
    v.cycles = ev.graph.cycles
    v.blockedOn = pids.map { p in
      let pe = ev.processes[p]!
      return BlockedOn(
        pid: p, probe: "(no probes: foreign process)", kernel: BlockedOnList.kernelText(pe), stack: pe.stack,
        edge: BlockedOnList.edgeText(p, ev), python: ev.pythonBlocked(p))
    }
    v.notes.append(contentsOf: ev.notes)
    v.terminals = HangClassifier.classify(verdict: v, byPid: [:], evidence: ev, listener: .none, t0: t0)
    return v
  }
}
