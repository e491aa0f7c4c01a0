import Diagnosis

/// The `compare` table for people, then each backend's first divergence.
public enum CompareText {
  public static func render(_ results: [BackendTrials], scenario: String) -> String {
    var out = "compare  \(scenario): \(results.map(\.backend).joined(separator: ", ")) (reference: \(results.first?.backend ?? "-"))\n\n"
    out += "backend      trials  clean  hang  leak  unexpected  spawn ms/actor  teardown ms  classes\n"
    for r in results {
      out += r.backend.padded(13) + "\(r.verdicts.count)".padded(8) + "\(r.count("clean"))".padded(7) + "\(r.count("hang"))".padded(6)
        + "\(r.count("leak"))".padded(6) + "\(r.count("unexpected"))".padded(12)
        + (r.medianSpawnMs.map { VerdictText.fmt($0) } ?? "-").padded(16) + (r.medianTeardownMs.map { VerdictText.fmt($0) } ?? "-").padded(13)
        + (Set(r.verdicts.compactMap(\.hangClass?.name)).sorted().joined(separator: ",").nonEmpty ?? "-") + "\n"
    }
    for r in results {
      guard let v = r.interrupted else { continue }
      out += r.backend.padded(13) + "interrupted: trial \(r.verdicts.count + 1) was cut short by signal \(v.interrupted ?? 0); its tree was killed and reaped, later trials did not run\n"
    }
    guard let ref = results.first else { return out }
    for r in results.dropFirst() {
      out += "\n\(r.backend) vs \(ref.backend): "
      guard let d = BackendComparison.firstDivergence(reference: ref, other: r) else {
        out += "same probe sequences for every actor (first trials)\n"
        continue
      }
      out += "first divergence at \(d.actor) (\(ref.backend) pid \(d.referencePid.map(String.init) ?? "-"), \(r.backend) pid \(d.otherPid.map(String.init) ?? "-")), event #\(d.index)\n"
      out += "  \((ref.backend + ":").padded(12)) " + (d.reference.isEmpty ? "(no probe)" : d.reference.joined(separator: " → ")) + "\n"
      out += "  \((r.backend + ":").padded(12)) " + (d.other.isEmpty ? "(no probe: never reached ENTER)" : d.other.joined(separator: " → ")) + "\n"
      let stuck = Set(r.verdicts.flatMap { v in v.stuck.map { "\(v.name(of: $0)) \($0)" } })
      if !stuck.isEmpty { out += "  stuck under \(r.backend): " + stuck.sorted().joined(separator: ", ") + "\n" }
    }
    let stuckRef = Set(ref.verdicts.flatMap { v in v.stuck.map { "\(v.name(of: $0)) \($0)" } })
    if !stuckRef.isEmpty { out += "\nstuck under \(ref.backend): " + stuckRef.sorted().joined(separator: ", ") + "\n" }
    out += "\nrun dirs: " + ((results.first?.verdicts.first ?? results.first?.interrupted)?.runDir.split(separator: "/").dropLast().joined(separator: "/") ?? "-") + "\n"
    return out
  }

}

extension String {
  var nonEmpty: String? { isEmpty ? nil : self }
}
