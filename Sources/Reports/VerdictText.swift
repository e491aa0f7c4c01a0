import ActorRuntime
import Diagnosis

/// The verdict for people: the answer, the chain, the evidence, the fix,
/// then the detail (actor tree, error tree, timings).
public enum VerdictText {
  public static func render(_ v: Verdict, color: Bool = false) -> String {
    var out = ""
    let total = v.actors.count
    let head: String
    switch v.outcome {
    case "clean": head = "CLEAN"
    case "hang": head = "HANG"
    case "leak": head = "LEAK"
    default: head = "UNEXPECTED"
    }
    if v.backend == "-" { return ForeignVerdictText.render(v, head: head) }
    out += "\(head)  \(v.scenario) under \(v.backend): "
    switch v.outcome {
    case "clean":
      let died = v.actors.filter { !$0.reachedExit && $0.diesOnPurpose }.count
      out += died == 0 ? "all \(total) actors reached EXIT\n" : "\(total - died) actors reached EXIT, \(died) died as the scenario says\n"
    case "hang": out += "\(v.stuck.count) of \(total) actors never reached EXIT\n"
    case "leak": out += "the root finished but processes outlived it\n"
    default: out += v.unexpected.first.map { $0 + "\n" } ?? "\n"
    }
    if v.outcome == "hang" || v.outcome == "leak" {
      out += chainsAndClass(v)
      if !v.blockedOn.isEmpty {
        out += "\nblocked on\n"
        for b in v.blockedOn.prefix(8) {
          out += "  \(v.name(of: b.pid)) \(b.pid): \(b.probe)\n"
          if let k = b.kernel { out += "      kernel \(k)\n" }
          if let e = b.edge { out += "      edge   \(e)\n" }
          for f in b.stack.prefix(6) { out += "      \(f)\n" }
          out += PythonVerdictText.blockedOn(b)  // Python tasks and frames (issue 11)
        }
      }
    }
    for u in v.unexpected where v.outcome != "unexpected" || u != v.unexpected.first { out += "  unexpected: \(u)\n" }

    out += "\nactors (\(total))"
    let nameW = max(20, (v.actors.map { $0.name.count + 3 * $0.depth }.max() ?? 20) + 2)
    out += String(repeating: " ", count: max(1, nameW - 9 - String(total).count)) + "  pid     role      last probe                          exit\n"
    for a in v.actors {
      let indent = String(repeating: "   ", count: a.depth)
      let name = indent + a.name
      let probe: String
      if a.reachedExit { probe = "EXIT" } else if let p = a.lastProbe { probe = "\(p.site) \(p.event)" } else { probe = "(no probe)" }
      var exit = a.exitStatus ?? "-"
      if let k = a.hardKilled { exit += " (\(k) by parent)" }
      out += name.padded(nameW) + String(a.pid).padded(8) + a.role.padded(10) + probe.padded(36) + exit + "\n"
    }
    if let e = v.error {
      out += "\nerror tree at root:\n"
      for (d, n) in e.walk() where d < 6 {
        out += String(repeating: "  ", count: d + 1) + n.summary + "\n"
      }
    } else if let r = v.rootValue {
      out += "\nroot returned: \(r)\n"
    }
    var timing: [String] = []
    if let s = v.spawnMsPerActor { timing.append("spawn \(fmt(s)) ms/actor (median)") }
    if let f = v.firstErrorMs { timing.append("first error \(fmt(f)) ms") }
    if let t = v.teardownMs { timing.append("last EXIT \(fmt(t)) ms") }
    timing.append("verdict \(fmt(v.durationMs)) ms (timeout \(v.timeoutMs) ms)")
    out += "\ntimings: " + timing.joined(separator: ", ") + "\n"
    for n in v.notes { out += "note: \(n)\n" }
    out += "run dir: \(v.runDir) (probes/*.jsonl, supervisor.json\(v.hasEvidence ? ", evidence.json" : ""))    exit \(v.exitCode)\n"
    return out
  }

  /// The chains, cycles, the terminal's class with its evidence and hint,
  /// and what is stuck outside every chain: shared by run and watch verdicts.
  static func chainsAndClass(_ v: Verdict) -> String {
    var out = ""
    for (i, chain) in v.waitChains.enumerated() {
      let parts = chain.map { "\(v.name(of: $0)) \($0)" }
      out += "\n  " + parts.joined(separator: " ─waits on→ ") + "\n"
      if let t = v.terminals.first(where: { $0.pid == chain.last }) {
        out += "     \(t.pid) is the terminal: \(t.explanation)\n"
      }
      if i >= 4 {
        out += "  (+\(v.waitChains.count - 5) more chains)\n"
        break
      }
    }
    for c in v.cycles {
      out += "  cycle: " + c.map { "\(v.name(of: $0)) \($0)" }.joined(separator: " → ") + " → (back)\n"
    }
    if let t = v.terminals.first {
      out += "\n  class     \(t.hangClass)\n"
      for (i, e) in t.evidence.enumerated() { out += (i == 0 ? "  evidence  " : "            ") + e + "\n" }
      out += "  hint      \(t.hint)\n"
      let others = v.terminals.dropFirst()
      if !others.isEmpty {
        out += "\n  also stuck: " + others.map { "\($0.name) \($0.pid) (\($0.hangClass))" }.joined(separator: ", ") + "\n"
      }
    }
    if !v.bystanders.isEmpty {
      out += "  bystanders: " + v.bystanders.map { "\($0.name) \($0.pid) (\($0.reason))" }.joined(separator: "; ") + "\n"
    }
    // Only what no printed chain or cycle shows, bystanders and zombies left out.
    let shown = Set(v.waitChains.flatMap { $0 } + v.cycles.flatMap { $0 } + v.bystanders.map(\.pid))
    let outside = v.outsideChains.filter { !shown.contains($0) }
    if !outside.isEmpty { out += "  stuck outside any chain: " + outside.map { "\(v.name(of: $0)) \($0)" }.joined(separator: ", ") + "\n" }
    return out
  }

  static func fmt(_ x: Double) -> String {
    if x < 10 { return String((x * 100).rounded() / 100) }
    return String((x * 10).rounded() / 10)
  }
}

extension String {
  func replacingNewlines() -> String {
    var o = ""
    for ch in self {
      if ch == "\n" { o += " ⏎ " } else { o.append(ch) }
    }
    return o
  }
}
