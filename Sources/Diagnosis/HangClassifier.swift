import Probes

/// Names the cause of each terminal process from evidence alone: its probe
/// sequence, its parent's probes, the kernel's view (syscall, wchan, fds,
/// edges, CPU used between two samples) and its stack. The fault that was
/// injected is never an input: the same situation reached any other way
/// must get the same class. The rules are HangRules.ordered.
public enum HangClassifier {
  public static func classify(
    verdict v: Verdict, byPid: [Int32: [ProbeEvent]], evidence: Evidence?, listener: CancelListener, t0: UInt64,
    rules: [any HangRule] = HangRules.ordered
  ) -> [TerminalVerdict] {
    func judge(_ pid: Int32) -> TerminalVerdict {
      let ctx = TerminalContext(pid: pid, verdict: v, byPid: byPid, evidence: evidence, listener: listener, t0: t0)
      let c = rules.lazy.compactMap { $0.classify(ctx) }.first ?? unexplained(ctx)
      return TerminalVerdict(
        pid: pid, name: ctx.name, hangClass: c.hangClass, explanation: c.explanation,
        evidence: c.evidence + ctx.commonEvidence, hint: c.hangClass.hint)
    }
    var terms: [Int32] = v.waitChains.compactMap(\.last)
    for s in v.stuck where !terms.contains(s) && !v.waitChains.contains(where: { $0.contains(s) }) { terms.append(s) }
    var out: [TerminalVerdict] = []
    for t in terms {
      var verdict = judge(t)
      // A chain's end may only be waiting on the process above it, which is
      // the one whose state explains the hang: walk up while unexplained.
      if verdict.hangClass == .unexplained, let chain = v.waitChains.first(where: { $0.last == t }), chain.count >= 2,
        evidence?.graph.edges.contains(where: { $0.from == t && $0.to == chain[chain.count - 2] }) ?? false
      {
        for up in chain.dropLast().reversed() {
          let u = judge(up)
          if u.hangClass != .unexplained && u.hangClass != .uncancellableTask {
            verdict = u
            verdict.evidence.append("\(v.name(of: t)) \(t) below it only waits on it")
            break
          }
        }
      }
      if !out.contains(where: { $0.pid == verdict.pid }) { out.append(verdict) }
    }
    // Specific causes first; a bare cycle or an unexplained stop after them.
    return out.enumerated().sorted { ($0.element.hangClass.rank, $0.offset) < ($1.element.hangClass.rank, $1.offset) }
      .map(\.element)
  }

  /// Nothing fits: say how many wait on it and what it is doing.
  static func unexplained(_ ctx: TerminalContext) -> Classification {
    let waiters = ctx.verdict.waitChains.filter { $0.last == ctx.pid && $0.count > 1 }.map { $0.count - 1 }.max() ?? 0
    let doing = ctx.process.map { " (\($0.syscall ?? "state \($0.state)"))" } ?? ""
    return Classification(
      .unexplained,
      waiters > 0
        ? "\(ctx.name) ends a chain of \(waiters) wait(s) on it\(doing), and no known pattern explains why it does not finish"
        : "\(ctx.name) is stuck\(doing) and no known pattern fits; see the evidence")
  }
}
