import Diagnosis

/// The `compare --watch` table for people: per backend its outcomes,
/// durations, leaks and hang classes, then the processes each backend
/// made and the first divergence in process events.
public enum WatchCompareText {
  public static func render(_ results: [WatchBackendTrials], command: [String], compareDir: String) -> String {
    var out = "compare --watch  \(ShellQuote.line(command)): \(results.map(\.backend).joined(separator: ", "))"
    out += " (reference: \(results.first?.backend ?? "-"))\n\n"
    let w = max(13, (results.map(\.backend.count).max() ?? 0) + 2)
    out += "backend".padded(w) + "trials  clean  hang  leak  failed (status)  median ms  classes / leaked\n"
    for r in results {
      let failed = r.failed.isEmpty ? "0" : "\(r.failed.count) (" + r.failed.map(String.init).joined(separator: ",") + ")"
      let tail = (r.hangClasses + r.leaked.map { "leaked " + $0 }).joined(separator: ", ")
      out += r.backend.padded(w) + "\(r.trials.count)".padded(8) + "\(r.count(.clean))".padded(7)
        + "\(r.count(.hang))".padded(6) + "\(r.count(.leak))".padded(6) + failed.padded(17)
        + (r.medianDurationMs.map { VerdictText.fmt($0) } ?? "-").padded(11) + (tail.isEmpty ? "-" : tail) + "\n"
    }
    for r in results {
      guard let t = r.interrupted else { continue }
      out += r.backend.padded(w)
        + "interrupted: trial \(r.trials.count + 1) was cut short by signal \(t.interrupted ?? 0); its tree was killed and reaped, later trials did not run\n"
    }
    out += "\nprocess events (first trial; + appeared, - exited, from samples):\n"
    for r in results {
      guard let t = r.trials.first else { continue }
      let ev = t.events.map(\.text)
      out += "  \((r.backend + ":").padded(w)) " + (ev.isEmpty ? "(none seen)" : ev.prefix(16).joined(separator: ", "))
        + (ev.count > 16 ? ", ... (\(ev.count) in all)" : "") + "\n"
    }
    if let ref = results.first {
      for r in results.dropFirst() where !r.trials.isEmpty && !ref.trials.isEmpty {
        let mine = Set(r.shapes)
        let theirs = Set(ref.shapes)
        out += "\n\(r.backend) vs \(ref.backend): "
        guard let d = WatchComparison.divergence(r, from: ref) else {
          out += "no divergence: the same processes appeared and exited in the same order (first trials)\n"
          continue
        }
        let under = d.parent.isEmpty ? "the command" : d.parent
        out += "first divergence under \(under), event #\(d.index) (\(VerdictText.fmt(d.ms)) ms)\n"
        out += "  \((ref.backend + ":").padded(w)) " + (d.reference.isEmpty ? "(nothing)" : d.reference.joined(separator: ", ")) + "\n"
        out += "  \((r.backend + ":").padded(w)) " + (d.other.isEmpty ? "(nothing)" : d.other.joined(separator: ", ")) + "\n"
        let onlyMine = r.shapes.filter { !theirs.contains($0) }.map(\.description)
        let onlyRef = ref.shapes.filter { !mine.contains($0) }.map(\.description)
        if !onlyMine.isEmpty { out += "  only under \(r.backend): " + onlyMine.joined(separator: ", ") + "\n" }
        if !onlyRef.isEmpty { out += "  only under \(ref.backend): " + onlyRef.joined(separator: ", ") + "\n" }
      }
    }
    out += "\nrun dirs: \(compareDir) (BACKEND-TRIAL/: watch.json, verdict.json, samples.jsonl, output.txt)\n"
    return out
  }
}
