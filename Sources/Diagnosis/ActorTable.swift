import ActorRuntime
import Probes

/// Verdict stage 1, the actors: who spawned whom and how each ended, as the
/// parents recorded it (SPAWNED, REAPED, hard kills), each actor's own
/// probes, and what the supervisor reaped. Actors come in tree order.
struct ActorTable {
  var actors: [ActorRecord] = []
  var pids = Set<Int32>()
  var parentOf: [Int32: Int32] = [:]
  /// When each child's SPAWNED was written, and its parent's spawn ENTER.
  var spawnedAt: [Int32: UInt64] = [:]
  var spawnStartAt: [Int32: UInt64] = [:]
  /// Actors that never reached EXIT and were not meant to die, sorted.
  var stuck: [Int32] = []
  /// The run's time zero (the supervisor's start).
  var t0: UInt64 = 0

  init(files: RunFiles, log: ProbeLog, byPid: [Int32: [ProbeEvent]], sup: SupervisorFacts) {
    let specs = Dictionary(files.root.flatten().map { ($0.0.name, $0.0) }, uniquingKeysWith: { a, _ in a })
    var depthOf: [String: Int] = [:]
    func depths(_ n: ActorSpec, _ d: Int) {
      depthOf[n.name] = d
      for c in n.children { depths(c, d + 1) }
    }
    depths(files.root, 0)

    var nameOf: [Int32: String] = [:]
    var statusOf: [Int32: ProbeDetail.ExitStatus] = [:]
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
      if (e.site == "nursery" || e.site == "forkserver") && e.event == "REAPED", let c = e.peer,
        let st = ProbeDetail.exitStatus(e.detail)
      {
        statusOf[c] = st
      }
      if e.site == "hard_kill", let c = e.peer { hardKilled[c] = e.event }
    }
    for (p, st) in sup.reaped where statusOf[p] == nil { statusOf[p] = st }
    // Every actor pid: from its own probes or from its parent's SPAWNED.
    let supPid = sup.supervisorPid
    let forkServerPid = sup.forkServerPid
    pids = Set(parentOf.keys)
    for (p, evs) in byPid where p != supPid && p != forkServerPid && evs.contains(where: { $0.actor != "forkserver" }) {
      pids.insert(p)
    }
    if let s = supPid { pids.remove(s) }
    if let f = forkServerPid { pids.remove(f) }
    t0 = sup.startNs ?? log.events.first?.t ?? 0

    for pid in pids {
      let evs = byPid[pid] ?? []
      let name = evs.last(where: { $0.site != "child_target" })?.actor ?? nameOf[pid] ?? evs.last?.actor ?? "pid \(pid)"
      let spec = specs[name]
      let last = evs.last
      let status = statusOf[pid]
      actors.append(
        ActorRecord(
          pid: pid, name: name, role: spec?.role ?? "actor", parentPid: parentOf[pid] == supPid ? nil : parentOf[pid],
          reachedExit: evs.contains { $0.site == "process" && $0.event == ProbeKind.exit }, exitStatus: status?.text,
          exitCode: status?.code, lastProbe: last.map { ($0.site, $0.event, $0.detail) },
          lastProbeMs: last.map { [t0] in Double($0.t &- t0) / 1e6 }, diesOnPurpose: spec?.behavior.diesOnPurpose ?? false,
          hardKilled: hardKilled[pid], depth: depthOf[name] ?? 0))
    }
    let keys = ActorTable.treeKeys(actors)
    actors.sort { ActorTable.precedes(keys[$0.pid]!, keys[$1.pid]!) }
    stuck = actors.filter { !$0.reachedExit && !$0.diesOnPurpose }.map(\.pid).sorted()
  }

  /// Each actor's name path from the root, computed once per actor.
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

  /// Lexicographic order of name paths: tree order.
  static func precedes(_ a: [String], _ b: [String]) -> Bool {
    for (x, y) in zip(a, b) where x != y { return x < y }
    return a.count < b.count
  }
}
