import KernelEvidence

/// A verdict from kernel evidence only (a foreign tree under `watch`): the
/// same shape as a tree verdict, with processes for actors and no probes.
public enum ForeignTreeVerdict {
  /// Nothing found yet: `outcome` clean, no processes.
  public static func empty(command: [String], durationMs: Double) -> Verdict {
    Verdict(
      outcome: "clean", scenario: "watch: " + command.joined(separator: " "), backend: "-", runDir: "-",
      durationMs: durationMs, timeoutMs: 0, actors: [], stuck: [], waitChains: [], cycles: [], error: nil, rootValue: nil,
      unexpected: [], notes: [], blockedOn: [], terminals: [], spawnMsPerActor: nil, firstErrorMs: nil, teardownMs: nil,
      damagedLines: 0, survivors: [], killed: [], interrupted: nil, command: command)
  }

  /// The verdict on the processes in `ev`: a hang while the command still
  /// runs, a leak once it has exited. `argv` (each process's
  /// /proc/PID/cmdline, when read) names the processes (ProcessNaming).
  public static func build(
    command: [String], evidence ev: Evidence, stillRunning: Bool, commandPid: Int32, t0: UInt64,
    argv: [Int32: [String]] = [:]
  ) -> Verdict {
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
      let id = ProcessNaming.identify(argv: argv[p] ?? [], comm: pe.comm, parentArgv: argv[pe.ppid])
      return ActorRecord(
        pid: p, name: id.name, role: p == commandPid ? "command" : id.role.rawValue,
        parentPid: ev.processes[pe.ppid] != nil ? pe.ppid : nil, reachedExit: false, exitStatus: nil, exitCode: nil,
        lastProbe: nil, lastProbeMs: nil, diesOnPurpose: false, hardKilled: nil, depth: d(p), cmdline: argv[p],
        doing: "\(pe.state) \(pe.syscallName ?? pe.syscall ?? "-")")
    }
    let g = ForeignWaitGraph(ev, commandPid: commandPid, name: v.name(of:))
    // A zombie has exited: it is a consequence of its parent not reaping it,
    // never a stuck process of its own.
    v.stuck = pids.filter { !(ev.processes[$0]?.isZombie ?? false) }
    v.waitChains = g.graph.chains
    v.cycles = g.graph.cycles
    v.edges = g.graph.edges
    v.bystanders = g.bystanders
    v.outsideChains = g.outsideChains
    v.blockedOn = pids.map { p in
      let pe = ev.processes[p]!
      let edge = BlockedOnList.edge(p, ev, listener: g.listener)
      return BlockedOn(
        pid: p, probe: "(no probes: foreign process)", kernel: BlockedOnList.kernelText(pe), stack: pe.stack,
        edge: BlockedOnList.edgeText(p, edge, ev), python: ev.pythonBlocked(p), edgeTo: edge?.to)
    }
    v.notes.append(contentsOf: ev.notes)
    v.notes.append(contentsOf: ev.zombieLines.map { $0 + " (a consequence: its parent is stuck)" })
    // Bystanders and zombies are not where a hang is: they are folded, or
    // consequences (the zombie's parent is stuck).
    let notTerminal = Set(g.bystanders.map(\.pid) + g.zombies)
    let judged = HangClassifier.classify(verdict: v, byPid: [:], evidence: ev, listener: g.listener, t0: t0)
    let kept = judged.filter { !notTerminal.contains($0.pid) }
    v.terminals = kept.isEmpty ? judged : kept
    return v
  }
}
