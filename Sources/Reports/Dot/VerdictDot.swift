import Diagnosis
import KernelEvidence

/// `--format dot` of a verdict (run, nested-multierrors, report, watch):
/// its wait-for graph. Stuck processes filled, each chain's terminal bold
/// (with its class), edges labelled with their kind and the waiter's fd,
/// cycles red, bystanders grey. A run with no stuck process draws its
/// actors and no edge. Valid input for `dot -Tsvg`.
public enum VerdictDot {
  public static let stuckFill = "#ffd8a8"
  public static let terminalFill = "#ff8787"
  public static let bystanderColor = "grey60"
  public static let cycleColor = "red"

  public static func render(_ v: Verdict) -> String {
    var dot = DotWriter(name: "verdict", graphAttributes: [("rankdir", "LR"), ("label", title(v)), ("labelloc", "t")])
    dot.nodeDefaults([("shape", "box"), ("fontname", "Helvetica")])
    let stuck = Set(v.stuck)
    let terminals = Dictionary(v.terminals.map { ($0.pid, $0) }, uniquingKeysWith: { a, _ in a })
    let bystanders = Set(v.bystanders.map(\.pid))
    var cycleEdges = Set<PidPair>()
    for c in v.cycles where !c.isEmpty {
      for (i, p) in c.enumerated() { cycleEdges.insert(PidPair(p, c[(i + 1) % c.count])) }
    }
    let inCycle = Set(v.cycles.joined())
    var shown = stuck.union(v.waitChains.joined()).union(inCycle).union(bystanders).union(terminals.keys)
    let edges = v.edges.filter { shown.contains($0.from) || shown.contains($0.to) }
    for e in edges { shown.formUnion([e.from, e.to]) }
    if shown.isEmpty { shown = Set(v.actors.map(\.pid)) }

    for a in v.actors where shown.contains(a.pid) {
      var label = "\(a.name)\npid \(a.pid)\n\(state(a, stuck: stuck.contains(a.pid)))"
      var attrs: [(String, String)] = []
      var style: [String] = []
      if let t = terminals[a.pid] {
        label += "\n\(t.hangClass.name)"
        style += ["filled", "bold"]
        attrs += [("fillcolor", terminalFill), ("penwidth", "3"), ("tooltip", t.explanation)]
      } else if bystanders.contains(a.pid) {
        style += ["filled", "dashed"]
        attrs += [("fillcolor", "grey92"), ("color", bystanderColor), ("fontcolor", "grey40")]
        if let b = v.bystanders.first(where: { $0.pid == a.pid }) { attrs.append(("tooltip", "bystander: \(b.reason)")) }
      } else if stuck.contains(a.pid) {
        style.append("filled")
        attrs.append(("fillcolor", stuckFill))
      }
      if inCycle.contains(a.pid) { attrs.append(("color", cycleColor)) }
      if !style.isEmpty { attrs.append(("style", style.joined(separator: ","))) }
      dot.node("p\(a.pid)", [("label", label)] + attrs)
    }
    // Edge ends that are not actors of the verdict (a process outside the tree).
    let known = Set(v.actors.map(\.pid))
    for p in shown.subtracting(known).sorted() { dot.node("p\(p)", [("label", "pid \(p)"), ("style", "dashed")]) }

    // One arrow per pair, a label line per kind (with the waiter's fd when
    // any edge of that kind names one: a probe edge and the kernel's).
    var pairs: [PidPair: [WaitEdge]] = [:]
    var pairOrder: [PidPair] = []
    for e in edges {
      let k = PidPair(e.from, e.to)
      if pairs[k] == nil { pairOrder.append(k) }
      pairs[k, default: []].append(e)
    }
    for k in pairOrder {
      let list = pairs[k] ?? []
      var kinds: [String] = []
      for e in list where !kinds.contains(e.kind.rawValue) { kinds.append(e.kind.rawValue) }
      let lines = kinds.map { kind -> String in
        let fd = list.filter { $0.kind.rawValue == kind }.lazy.compactMap { WaitEdgeFD.fd($0) }.first
        return kind + (fd.map { " fd \($0)" } ?? "")
      }
      var attrs = [("label", lines.joined(separator: "\n")), ("tooltip", list.map(\.evidence).joined(separator: "\n"))]
      if cycleEdges.contains(k) { attrs += [("color", cycleColor), ("fontcolor", cycleColor), ("penwidth", "2")] }
      if bystanders.contains(k.a) { attrs += [("color", bystanderColor), ("fontcolor", bystanderColor)] }
      dot.edge("p\(k.a)", "p\(k.b)", attrs)
    }
    return dot.finished()
  }

  static func state(_ a: ActorRecord, stuck: Bool) -> String {
    if let d = a.doing { return d }
    if a.reachedExit { return "EXIT" + (a.exitStatus.map { ", \($0)" } ?? "") }
    let probe = a.lastProbe.map { "\($0.site) \($0.event)" } ?? "no probe"
    return (stuck ? "stuck at " : "") + probe + (a.exitStatus.map { ", \($0)" } ?? "")
  }

  static func title(_ v: Verdict) -> String {
    let what = v.command.map { "watch: " + $0.joined(separator: " ") } ?? "\(v.scenario) under \(v.backend)"
    return "\(v.outcome.uppercased())  \(what)" + (v.hangClass.map { "  (\($0.name))" } ?? "")
  }

  struct PidPair: Hashable {
    var a: Int32
    var b: Int32
    init(_ a: Int32, _ b: Int32) {
      self.a = a
      self.b = b
    }
  }
}
