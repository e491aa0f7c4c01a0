/// Graphviz dot of the wait-for edges; nodes are labelled "pid comm".
public enum KernelSnapshotDot {
  public static func render(_ s: KernelSnapshot) -> String {
    var dot = DotWriter(name: "waits")
    let inCycle = Set(s.cycles.flatMap { $0 })
    for p in s.processes {
      var attrs = [("label", "\(p.pid) \(p.comm)\n\(p.state)")]
      if inCycle.contains(p.pid) { attrs.append(("color", "red")) }
      if let why = s.unexplained[p.pid] { attrs.append(("tooltip", why)) }
      dot.node("p\(p.pid)", attrs)
    }
    for e in s.edges {
      dot.edge("p\(e.from)", "p\(e.to)", [("label", e.kind.rawValue), ("tooltip", e.evidence)])
    }
    return dot.finished()
  }
}
