import Diagnosis

/// The verdict on a foreign tree (`watch`) for people. Foreign processes
/// write no probes, so their rows have no probe or exit columns: name, pid,
/// role, what the kernel shows it doing. One line per process under
/// "blocked on" (stacks only for terminals): a 3-second run of 8 processes
/// fits on a screen.
enum ForeignVerdictText {
  static func render(_ v: Verdict, head: String) -> String {
    let total = v.actors.count
    var out = "\(head)  watch: \(ShellQuote.line(v.command ?? [v.scenario])): "
    let n = v.stuck.count == 1 ? "1 process" : "\(v.stuck.count) processes"
    switch v.outcome {
    case "hang": out += "\(n) still running at the timeout\n"
    case "leak": out += "\(n) outlived the command and its grace\n"
    case "clean": out += "nothing left running\n"
    default: out += "\n"
    }
    if v.outcome == "hang" || v.outcome == "leak" {
      out += VerdictText.chainsAndClass(v)
      let terminals = Set(v.terminals.map(\.pid))
      let claimed = claimedByEvidence(v)
      let chainSteps = Set(v.waitChains.flatMap { c in zip(c, c.dropFirst()).map { Step(from: $0, to: $1) } })
      if !v.blockedOn.isEmpty {
        out += "\nblocked on\n"
        for b in v.blockedOn.prefix(12) {
          out += "  \(v.name(of: b.pid)) \(b.pid): \(b.kernel ?? "-")\n"
          // An edge a printed chain already shows (this pid, then its target) is not repeated.
          let onChain = b.edgeTo.map { to in chainSteps.contains(Step(from: b.pid, to: to)) } ?? false
          if let e = b.edge, !onChain, !contradicts(e, claimed[b.pid] ?? []), !repeats(e, b.kernel) { out += "      \(e)\n" }
          // A Python process shows its Python frames and tasks, and only the
          // native frames above the interpreter (the syscall's caller): below
          // them every frame is _PyEval_EvalFrameDefault, which says nothing.
          // Terminals get every task; the others one line, so that a tree of
          // Python processes still fits on a screen.
          if b.python != nil && terminals.contains(b.pid) {
            for f in PythonVerdictText.nativeAboveInterpreter(b.stack).prefix(3) { out += "      \(f)\n" }
            out += PythonVerdictText.blockedOn(b)
          } else if let line = PythonVerdictText.oneLine(b) {
            out += "      \(line)\n"
          } else if terminals.contains(b.pid) {
            for f in b.stack.prefix(6) { out += "      \(f)\n" }
          }
        }
        if v.blockedOn.count > 12 { out += "  (+\(v.blockedOn.count - 12) more in --format json)\n" }
      }
    }
    for u in v.unexpected { out += "  unexpected: \(u)\n" }
    if !v.lingering.isEmpty {
      out += "\nlingered after the command exited, ended within the grace: "
      out += v.lingering.map { "\($0.name) \($0.pid) (\(Int($0.ms.rounded())) ms)" }.joined(separator: ", ") + "\n"
    }
    if total > 0 {
      let nameW = max(20, (v.actors.map { $0.name.count + 3 * $0.depth }.max() ?? 20) + 2)
      let roleW = max(8, (v.actors.map(\.role.count).max() ?? 8) + 2)
      out += "\n" + "processes (\(total))".padded(nameW + 2) + "pid".padded(8) + "role".padded(roleW) + "state, syscall\n"
      for a in v.actors {
        let name = String(repeating: "   ", count: a.depth) + a.name
        let cls = v.terminals.first { $0.pid == a.pid }.map { "  terminal: \($0.hangClass.name)" } ?? ""
        out += "  " + name.padded(nameW) + String(a.pid).padded(8) + a.role.padded(roleW) + (a.doing ?? "-") + cls + "\n"
      }
    }
    out += "\ntimings: verdict \(VerdictText.fmt(v.durationMs)) ms (timeout \(v.timeoutMs) ms)\n"
    for n in v.notes { out += "note: \(n)\n" }
    out += "exit \(v.exitCode)\n"
    return out
  }

  /// What the terminals' evidence already says about each pid.
  static func claimedByEvidence(_ v: Verdict) -> [Int32: [String]] {
    var m: [Int32: [String]] = [:]
    for t in v.terminals { m[t.pid, default: []] += t.evidence + [t.explanation] }
    return m
  }

  /// "unexplained: pause" under a kernel line that already says pause.
  static func repeats(_ edge: String, _ kernel: String?) -> Bool {
    guard edge.hasPrefix("unexplained: "), let kernel else { return false }
    return kernel.contains(edge.dropFirst("unexplained: ".count))
  }

  /// An edge line that says the peer is held outside the set while the
  /// class's evidence says the process holds the other end itself: the two
  /// cannot both be the reason. The class's evidence wins; the edge line is
  /// not printed (JSON keeps it).
  static func contradicts(_ edge: String, _ claims: [String]) -> Bool {
    edge.contains("peer held outside set") && claims.contains { $0.contains("itself") || $0.contains("its own") }
  }
}

/// Arguments as a POSIX shell would need them to be typed.
public enum ShellQuote {
  public static func line(_ argv: [String]) -> String { argv.map(word).joined(separator: " ") }

  public static func word(_ s: String) -> String {
    let safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-"
    if !s.isEmpty && s.allSatisfy({ safe.contains($0) }) { return s }
    var out = "'"
    for ch in s {
      if ch == "'" { out += "'\\''" } else { out.append(ch) }
    }
    return out + "'"
  }
}

/// One step of a printed chain: `from` waits on `to`.
private struct Step: Hashable {
  var from: Int32
  var to: Int32
}
