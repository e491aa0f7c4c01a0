import ActorRuntime
import MiniJSON
import Probes

/// Builds a verdict from a run directory's files only (run.json, probes,
/// supervisor.json, evidence.json): the live run and `report` share this, so
/// they cannot disagree. Nothing here knows which fault was injected.
///
/// Stages, each a pure function of the ones before: actors (ActorTable),
/// graph (VerdictGraph), chains (WaitChains), outcome (RunOutcome), timings
/// (RunTimings); then, for a hang or a leak, the classifier names the cause
/// at each chain's end (HangClassifier).
public enum VerdictBuilder {
  public static func build(_ files: RunFiles, log: ProbeLog) -> Verdict {
    let byPid = log.byPid
    let sup = SupervisorFacts(files.supervisor)
    let evidence = files.evidence.map(Evidence.load(json:))
    let table = ActorTable(files: files, log: log, byPid: byPid, sup: sup)
    let graph = VerdictGraph(table: table, byPid: byPid, evidence: evidence, supervisorPid: sup.supervisorPid)
    let chains = WaitChains(graph, table: table, evidence: evidence)
    let outcome = RunOutcome(files: files, table: table, sup: sup, damagedLines: log.damagedLines, evidence: evidence)
    let timings = RunTimings(table: table, log: log, byPid: byPid, endNs: sup.endNs)

    var v = Verdict(
      outcome: outcome.outcome, scenario: files.scenarioName, backend: files.backend, runDir: files.runDir,
      durationMs: timings.durationMs, timeoutMs: files.timeoutMs, actors: table.actors, stuck: table.stuck,
      waitChains: chains.chains, cycles: chains.cycles, error: sup.rootError, rootValue: sup.rootValue,
      unexpected: outcome.unexpected, notes: outcome.notes,
      blockedOn: BlockedOnList.build(
        stuck: table.stuck, byPid: byPid, probeEdges: graph.probeEdges, evidence: evidence, t0: table.t0),
      terminals: [], spawnMsPerActor: timings.spawnMsPerActor, firstErrorMs: timings.firstErrorMs,
      teardownMs: timings.teardownMs, damagedLines: log.damagedLines, survivors: sup.survivors, killed: sup.killed,
      interrupted: sup.interrupted)
    v.hasEvidence = evidence != nil
    v.forkServerPid = sup.forkServerPid
    v.startError = sup.startError
    v.actorSpawnMs = timings.actorSpawnMs
    v.edges = graph.drawn
    if v.outcome == "hang" || v.outcome == "leak" {
      v.terminals = HangClassifier.classify(
        verdict: v, byPid: byPid, evidence: evidence, listener: graph.listener, t0: table.t0)
      v.waitChains = WaitChains.trimmed(v.waitChains, terminals: v.terminals)
      let shown = Set(v.waitChains.joined()).union(v.cycles.joined())
      v.outsideChains = v.stuck.filter { !shown.contains($0) }
    }
    return v
  }

  public static func median(_ xs: [Double]) -> Double? { RunTimings.median(xs) }
}
