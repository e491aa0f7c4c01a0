import ActorRuntime
import MiniJSON
import Probes

/// Builds a verdict from a run directory's files only (run.json, probes,
/// supervisor.json, evidence.json): the live run and `report` share this, so
/// they cannot disagree. Nothing here knows which fault was injected.
public enum VerdictBuilder {
  public static func build(_ files: RunFiles, log: ProbeLog) -> Verdict {
    let byPid = log.byPid
    let sup = files.supervisor
    let supPid = sup?["supervisorPid"]?.int.map { Int32($0) }
    let forkServerPid = sup?["forkServerPid"]?.int.map { Int32($0) }
    let specs = Dictionary(files.root.flatten().map { ($0.0.name, $0.0) }, uniquingKeysWith: { a, _ in a })
    var depthOf: [String: Int] = [:]
    func depths(_ n: ActorSpec, _ d: Int) {
      depthOf[n.name] = d
      for c in n.children { depths(c, d + 1) }
    }
    depths(files.root, 0)

    // Who spawned whom, and how each ended, as the parents recorded it.
    var parentOf: [Int32: Int32] = [:]
    var nameOf: [Int32: String] = [:]
    var spawnedAt: [Int32: UInt64] = [:]
    var spawnStartAt: [Int32: UInt64] = [:]
    var statusOf: [Int32: String] = [:]
    var hardKilled: [Int32: String] = [:]
    var spawnEnterByName: [String: UInt64] = [:]
    for e in log.events {
      if e.site == "nursery" && e.event == "SPAWNED", let c = e.peer {
        parentOf[c] = e.pid
        nameOf[c] = e.detail
        spawnedAt[c] = e.t
        if let n = e.detail, let s = spawnEnterByName["\(e.pid)/\(n)"] { spawnStartAt[c] = s }
      }
      if e.site == "spawn" && e.event == "ENTER", let n = e.detail { spawnEnterByName["\(e.pid)/\(n)"] = e.t }
      if (e.site == "nursery" || e.site == "forkserver") && e.event == "REAPED", let c = e.peer, let d = e.detail,
        d != "unknown", d != "still running"
      {
        statusOf[c] = d
      }
      if e.site == "hard_kill", let c = e.peer { hardKilled[c] = e.event }
    }
    for (k, v) in sup?["reaped"]?.object ?? [] {
      if let p = Int32(k), statusOf[p] == nil, let st = v.string { statusOf[p] = st }
    }
    // Every actor pid: from its own probes or from its parent's SPAWNED.
    var pids = Set(parentOf.keys)
    for (p, evs) in byPid where p != supPid && p != forkServerPid && evs.contains(where: { $0.actor != "forkserver" }) {
      pids.insert(p)
    }
    if let s = supPid { pids.remove(s) }
    if let f = forkServerPid { pids.remove(f) }
    let t0 = UInt64(sup?["startNs"]?.int ?? Int64(log.events.first?.t ?? 0))

    var actors: [ActorRecord] = []
    for pid in pids {
      let evs = byPid[pid] ?? []
      let name = evs.last(where: { $0.site != "child_target" })?.actor ?? nameOf[pid] ?? evs.last?.actor ?? "pid \(pid)"
      let spec = specs[name]
      let last = evs.last
      let status = statusOf[pid]
      actors.append(
        ActorRecord(
          pid: pid, name: name, role: spec?.role ?? "actor", parentPid: parentOf[pid] == supPid ? nil : parentOf[pid],
          reachedExit: evs.contains { $0.site == "process" && $0.event == ProbeKind.exit }, exitStatus: status,
          exitCode: status.flatMap(statusCode),
          lastProbe: last.map { ($0.site, $0.event, $0.detail) },
          lastProbeMs: last.map { Double($0.t &- t0) / 1e6 }, diesOnPurpose: spec?.behavior.diesOnPurpose ?? false,
          hardKilled: hardKilled[pid], depth: depthOf[name] ?? 0))
    }
    // Tree order: by the name path from the root, computed once per actor.
    let keys = treeKeys(actors)
    actors.sort { keys[$0.pid]! < keys[$1.pid]! }

    let timedOut = sup?["timedOut"]?.bool ?? false
    let interrupted = sup?["interrupted"]?.int.map { Int32($0) }
    let aliveAtEnd = (sup?["aliveAtEnd"]?.array ?? []).compactMap { $0.int.map { Int32($0) } }
    let survivors = (sup?["survivors"]?.array ?? []).compactMap { $0.int.map { Int32($0) } }
    let killed = (sup?["killed"]?.array ?? []).compactMap { $0.int.map { Int32($0) } }
    let stuck = actors.filter { !$0.reachedExit && !$0.diesOnPurpose }.map(\.pid).sorted()

    // Wait chains, root-most first, over one graph:
    //  - probe edges: P entered a wait on C and never left it, or left it only
    //    because it hard-killed C;
    //  - kernel edges from evidence.json (the first stall or the deadline),
    //    except a child "waiting for data" from its parent: that is the
    //    parent-channel loop listening for a cancel request, not a wait.
    let intervalsAll = ProbeWaitEdges.intervals(byPid)
    let probeEdges = ProbeWaitEdges.derive(byPid, intervals: intervalsAll).filter { $0.from != supPid && pids.contains($0.to) }
    let evidence = files.evidence.map(Evidence.load(json:))
    let stuckSet = Set(stuck)
    let waitedOn = Set(intervalsAll.map { "\($0.from)>\($0.to)" })
    var adj: [Int32: [Int32]] = [:]
    func addEdge(_ a: Int32, _ b: Int32) {
      guard a != b, pids.contains(a), pids.contains(b) else { return }
      if !(adj[a] ?? []).contains(b) { adj[a, default: []].append(b) }
    }
    for e in probeEdges where stuckSet.contains(e.to) || e.open { addEdge(e.from, e.to) }
    var kernelEdgeCount = 0
    for e in evidence?.edges ?? [] {
      if parentOf[e.from] == e.to && e.kind != "waits-room-from" { continue }
      if waitedOn.contains("\(e.to)>\(e.from)") { continue }
      addEdge(e.from, e.to)
      kernelEdgeCount += 1
    }
    // Maximal paths from nodes nobody waits on; a revisit closes a cycle.
    let targets = Set(adj.values.flatMap { $0 })
    var starts = adj.keys.filter { !targets.contains($0) }.sorted()
    if starts.isEmpty { starts = adj.keys.sorted() }
    var chains: [[Int32]] = []
    var graphCycles: [[Int32]] = []
    func walk(_ path: [Int32]) {
      guard chains.count < 64 else { return }
      let last = path.last!
      let nexts = (adj[last] ?? []).sorted()
      if nexts.isEmpty {
        chains.append(path)
        return
      }
      for n in nexts {
        if let i = path.firstIndex(of: n) {
          let cyc = Array(path[i...])
          if !graphCycles.contains(where: { Set($0) == Set(cyc) }) { graphCycles.append(cyc) }
          chains.append(path)
        } else {
          walk(path + [n])
        }
      }
    }
    for s0 in starts { walk([s0]) }
    // Keep chains that end where something is stuck: a stuck actor, or a
    // process the kernel saw blocked with nothing further to wait on.
    chains = chains.filter { c in
      c.count > 1 && (stuckSet.contains(c.last!) || c.contains(where: stuckSet.contains) || kernelEdgeCount > 0)
    }
    // Drop chains contained in longer ones.
    chains = chains.filter { c in !chains.contains { $0.count > c.count && $0.suffix(c.count) == c[...] } }
    // Extend each chain upward: a parent that was waiting on the chain's head
    // while the head was already waiting further down is part of the chain,
    // even if its own wait ended later (when the ladder killed someone).
    let intervals = intervalsAll.filter { $0.from != supPid }
    let edgeStart = Dictionary(probeEdges.map { ("\($0.from)>\($0.to)", $0.sinceNs) }, uniquingKeysWith: min)
    chains = chains.map { chain in
      var c = chain
      while c.count >= 2 {  // ends: a pid already in the chain is never added
        let head = c[0]
        let since = edgeStart["\(head)>\(c[1])"] ?? intervals.first { $0.from == head && $0.to == c[1] }?.start ?? 0
        guard let p = parentOf[head], p != supPid, !c.contains(p),
          intervals.contains(where: { $0.from == p && $0.to == head && $0.start <= since && ($0.end ?? .max) >= since })
        else { break }
        c.insert(p, at: 0)
      }
      return c
    }
    chains.sort { $0.count != $1.count ? $0.count > $1.count : $0.first! < $1.first! }
    // Kernel cycles that only exist because a child watches its parent
    // channel (for cancel requests) are not waits: where the probes show the
    // parent waiting on the child, the reverse kernel edge is dropped.
    let probePairs = Set(intervals.map { "\($0.from)>\($0.to)" }).union(probeEdges.map { "\($0.from)>\($0.to)" })
    var cycles: [[Int32]] = graphCycles + (evidence?.cycles ?? []).filter { c in
      guard c.contains(where: { pids.contains($0) }) else { return false }
      for (i, a) in c.enumerated() {
        let b = c[(i + 1) % c.count]
        if probePairs.contains("\(b)>\(a)") { return false }
      }
      return true
    }
    cycles = cycles.reduce(into: [[Int32]]()) { acc, c in if !acc.contains(where: { Set($0) == Set(c) }) { acc.append(c) } }
    cycles.sort { $0.count > $1.count }

    // Blocked-on, per stuck pid.
    var blocked: [BlockedOn] = []
    for s in stuck {
      let evs = byPid[s] ?? []
      var probe = evs.suffix(3).map { "\($0.site) \($0.event)" + ($0.detail.map { " (\($0))" } ?? "") + " \(ms($0.t, t0))" }
        .joined(separator: ", ")
      if evs.isEmpty { probe = "no probe at all (never reached its first instruction of actor code)" }
      let openWaits = probeEdges.filter { $0.from == s && $0.open }
      if !openWaits.isEmpty {
        probe += "; waiting on " + openWaits.map { "\($0.site) of \($0.to)" }.joined(separator: ", ")
      }
      let pe = evidence?.processes[s]
      var kernel: String? = nil
      if let pe {
        kernel = "\(pe.state) \(pe.syscall ?? "-")" + (pe.wchan.map { " wchan \($0)" } ?? "") + " threads \(pe.threads)"
        if let d = pe.cpuTicksDelta, let sm = pe.sampleMs { kernel! += " cpu \(d * 10) ms in \(sm) ms" }
      }
      let edge = evidence?.edges.first(where: { $0.from == s }).map { "\($0.kind) \($0.to): \($0.evidence)" }
        ?? evidence?.unexplained[s].map { "unexplained: \($0)" }
      blocked.append(BlockedOn(pid: s, probe: probe, kernel: kernel, stack: pe?.stack ?? [], edge: edge))
    }

    // Outcome.
    var unexpected: [String] = []
    var notes: [String] = []
    let rootError = sup?["rootError"].flatMap(ErrorInfo.init(json:))
    let rootValue = sup?["rootValue"]?.string
    if let se = sup?["startError"]?.string { unexpected.append("the run did not start: \(se)") }
    let outcome: String
    if timedOut || (!stuck.isEmpty && actors.contains(where: { stuckSet.contains($0.pid) && $0.hardKilled != nil })) {
      outcome = "hang"
    } else if interrupted != nil {
      outcome = stuck.isEmpty && aliveAtEnd.isEmpty ? "clean" : "hang"
      notes.append("interrupted by signal \(interrupted!): the tree was killed before it finished")
    } else if !aliveAtEnd.isEmpty {
      outcome = "leak"
    } else {
      for a in actors where !a.reachedExit && !a.diesOnPurpose {
        unexpected.append("\(a.name) (pid \(a.pid)) died without reaching EXIT: \(a.exitStatus ?? "status unknown")")
      }
      if let want = files.expectRootError {
        let got = rootError?.type ?? "none"
        if got != want { unexpected.append("root raised \(got), expected \(want)") }
        if let n = files.expectRootErrorCount, let e = rootError, e.type == "MultiError" {
          if e.children.count != n { unexpected.append("root's MultiError has \(e.children.count) entries, expected \(n)") }
          for c in e.children where c.type != "RemoteActorError" && c.type != "Cancelled" {
            unexpected.append("root's MultiError holds \(c.type) from \(c.actor), expected RemoteActorError or Cancelled")
          }
        }
      }
      outcome = unexpected.isEmpty ? "clean" : "unexpected"
    }
    if let want = files.expectOutcome, want != outcome, outcome == "clean" {
      unexpected.append("expected \(want), the tree finished clean")
    }
    let finalOutcome = (outcome == "clean" && !unexpected.isEmpty) ? "unexpected" : outcome
    if !survivors.isEmpty { notes.append("processes survived the kill: \(survivors)") }
    if log.damagedLines > 0 { notes.append("\(log.damagedLines) damaged probe lines skipped (a torn last write?)") }
    if let ev = evidence { notes.append(contentsOf: ev.notes) }

    // Timings.
    var spawnCosts: [Double] = []
    var actorSpawnCosts: [Double] = []
    for (c, at) in spawnedAt {
      guard let s = spawnStartAt[c] else { continue }
      // First probe of the child: the child's own start.
      let cost: Double
      if let first = byPid[c]?.first?.t, first >= s { cost = Double(first - s) / 1e6 } else if at >= s {
        cost = Double(at - s) / 1e6
      } else {
        continue
      }
      spawnCosts.append(cost)
      if let p = parentOf[c], parentOf[p] != nil { actorSpawnCosts.append(cost) }
    }
    let firstError = log.events.first { $0.site == "behavior" && $0.event == "RAISE" }.map { Double($0.t &- t0) / 1e6 }
    let lastExit = log.events.last { $0.site == "process" && $0.event == ProbeKind.exit }.map { Double($0.t &- t0) / 1e6 }
    let endNs = sup?["endNs"]?.int.map { UInt64($0) }
    let duration = endNs.map { Double($0 &- t0) / 1e6 } ?? Double((log.events.last?.t ?? t0) &- t0) / 1e6

    var v = Verdict(
      outcome: finalOutcome, scenario: files.scenarioName, backend: files.backend, runDir: files.runDir,
      durationMs: duration, timeoutMs: files.timeoutMs, actors: actors, stuck: stuck, waitChains: chains, cycles: cycles,
      error: rootError, rootValue: rootValue, unexpected: unexpected, notes: notes, blockedOn: blocked, terminals: [],
      spawnMsPerActor: median(spawnCosts), firstErrorMs: firstError, teardownMs: lastExit, damagedLines: log.damagedLines,
      survivors: survivors, killed: killed, interrupted: interrupted)
    v.hasEvidence = evidence != nil
    v.forkServerPid = forkServerPid
    v.actorSpawnMs = actorSpawnCosts
    if finalOutcome == "hang" || finalOutcome == "leak" {
      v.terminals = HangClassifier.classify(verdict: v, byPid: byPid, probeEdges: probeEdges, evidence: evidence, t0: t0)
      // Where the explanation sits higher up a chain, the chain ends there.
      v.waitChains = v.waitChains.map { c in
        if let t = v.terminals.first(where: { t in c.contains(t.pid) && c.last != t.pid && !v.terminals.contains { $0.pid == c.last } }),
          let i = c.firstIndex(of: t.pid)
        {
          return Array(c[...i])
        }
        return c
      }
      var seenChains: [[Int32]] = []
      for c in v.waitChains where !seenChains.contains(c) { seenChains.append(c) }
      v.waitChains = seenChains
    }
    return v
  }

  static func treeKeys(_ actors: [ActorRecord]) -> [Int32: [String]] {
    let byPid = Dictionary(actors.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
    var keys: [Int32: [String]] = [:]
    for a in actors {
      var key: [String] = []
      var cur: ActorRecord? = a
      while let c = cur, key.count < 64 {
        key.append(c.name)
        cur = c.parentPid.flatMap { byPid[$0] }
      }
      keys[a.pid] = key.reversed()
    }
    return keys
  }

  static func statusCode(_ s: String) -> Int? {
    let parts = s.split(separator: " ")
    guard parts.count >= 2, let n = Int(parts[1]) else { return nil }
    return parts[0] == "exit" ? n : 128 + n
  }

  static func ms(_ t: UInt64, _ t0: UInt64) -> String {
    let v = Double(t &- t0) / 1e6
    return "\((v * 10).rounded() / 10) ms"
  }

  public static func median(_ xs: [Double]) -> Double? {
    guard !xs.isEmpty else { return nil }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
}

/// Lexicographic comparison of name paths, for tree order.
func < (a: [String], b: [String]) -> Bool {
  for (x, y) in zip(a, b) where x != y { return x < y }
  return a.count < b.count
}
