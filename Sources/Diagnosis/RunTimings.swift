import Probes

/// Verdict stage 5, the timings: per-actor spawn cost (spawn request to the
/// child's first probe), first error, last EXIT and the run's duration, in
/// ms since the run started.
struct RunTimings {
  var spawnMsPerActor: Double?
  /// Spawn costs of the children that actors spawned. The root is left
  /// out: the supervisor asks for it (and under `fork` it is exec'ed, as
  /// the supervisor never forks).
  var actorSpawnMs: [Double] = []
  var firstErrorMs: Double?
  var teardownMs: Double?
  var durationMs: Double

  init(table: ActorTable, log: ProbeLog, byPid: [Int32: [ProbeEvent]], endNs: UInt64?) {
    let t0 = table.t0
    var spawnCosts: [Double] = []
    for (c, at) in table.spawnedAt {
      guard let s = table.spawnStartAt[c] else { continue }
      // The child's own first probe, else its parent's SPAWNED.
      let cost: Double
      if let first = byPid[c]?.first?.t, first >= s {
        cost = Double(first - s) / 1e6
      } else if at >= s {
        cost = Double(at - s) / 1e6
      } else {
        continue
      }
      spawnCosts.append(cost)
      if let p = table.parentOf[c], table.parentOf[p] != nil { actorSpawnMs.append(cost) }
    }
    spawnMsPerActor = RunTimings.median(spawnCosts)
    firstErrorMs = log.events.first { $0.site == "behavior" && $0.event == "RAISE" }.map { Double($0.t &- t0) / 1e6 }
    teardownMs = log.events.last { $0.site == "process" && $0.event == ProbeKind.exit }.map { Double($0.t &- t0) / 1e6 }
    durationMs = endNs.map { Double($0 &- t0) / 1e6 } ?? Double((log.events.last?.t ?? t0) &- t0) / 1e6
  }

  static func median(_ xs: [Double]) -> Double? {
    guard !xs.isEmpty else { return nil }
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
  }
}
