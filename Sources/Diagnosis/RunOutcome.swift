import ActorRuntime

/// Verdict stage 4, the outcome: hang (the deadline passed, or a stuck actor
/// had to be killed), leak (processes outlived the root), unexpected (an
/// actor died without EXIT, or the scenario's expectations were not met),
/// or clean; with what was unexpected and notes for people.
struct RunOutcome {
  var outcome = "clean"
  var unexpected: [String] = []
  var notes: [String] = []

  init(files: RunFiles, table: ActorTable, sup: SupervisorFacts, damagedLines: Int, evidence: Evidence?) {
    let stuck = Set(table.stuck)
    if let se = sup.startError { unexpected.append("the run did not start: \(se)") }
    if sup.timedOut || table.actors.contains(where: { stuck.contains($0.pid) && $0.hardKilled != nil }) {
      outcome = "hang"
    } else if let sig = sup.interrupted {
      outcome = stuck.isEmpty && sup.aliveAtEnd.isEmpty ? "clean" : "hang"
      notes.append("interrupted by signal \(sig): the tree was killed before it finished")
    } else if !sup.aliveAtEnd.isEmpty {
      outcome = "leak"
    } else {
      for a in table.actors where !a.reachedExit && !a.diesOnPurpose {
        unexpected.append("\(a.name) (pid \(a.pid)) died without reaching EXIT: \(a.exitStatus ?? "status unknown")")
      }
      unexpected += RunOutcome.unmetExpectations(files, rootError: sup.rootError)
      outcome = unexpected.isEmpty ? "clean" : "unexpected"
    }
    if let want = files.expectOutcome, want != outcome, outcome == "clean" {
      unexpected.append("expected \(want), the tree finished clean")
    }
    if outcome == "clean" && !unexpected.isEmpty { outcome = "unexpected" }
    if !sup.survivors.isEmpty { notes.append("processes survived the kill: \(sup.survivors)") }
    if damagedLines > 0 { notes.append("\(damagedLines) damaged probe lines skipped (a torn last write?)") }
    if let ev = evidence { notes.append(contentsOf: ev.notes) }
  }

  /// The scenario's `expect` on the root's error, checked against what it raised.
  static func unmetExpectations(_ files: RunFiles, rootError: ErrorInfo?) -> [String] {
    guard let want = files.expectRootError else { return [] }
    var out: [String] = []
    let got = rootError?.type ?? "none"
    if got != want { out.append("root raised \(got), expected \(want)") }
    if let n = files.expectRootErrorCount, let e = rootError, e.type == "MultiError" {
      if e.children.count != n { out.append("root's MultiError has \(e.children.count) entries, expected \(n)") }
      for c in e.children where c.type != "RemoteActorError" && c.type != "Cancelled" {
        out.append("root's MultiError holds \(c.type) from \(c.actor), expected RemoteActorError or Cancelled")
      }
    }
    return out
  }
}
