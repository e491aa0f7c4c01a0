/// Graphviz dot of the wait-for edges; nodes are labelled "pid comm".
public enum KernelSnapshotDot {
  public static func render(_ s: KernelSnapshot) -> String {
    var out = "digraph waits {\n  rankdir=LR;\n"
    let inCycle = Set(s.cycles.flatMap { $0 })
    for p in s.processes {
      var attrs = "label=\"\(p.pid) \(escape(p.comm))\\n\(p.state)\""
      if inCycle.contains(p.pid) { attrs += ", color=red" }
      if let why = s.unexplained[p.pid] { attrs += ", tooltip=\"\(escape(why))\"" }
      out += "  p\(p.pid) [\(attrs)];\n"
    }
    for e in s.edges {
      out += "  p\(e.from) -> p\(e.to) [label=\"\(e.kind.rawValue)\", tooltip=\"\(escape(e.evidence))\"];\n"
    }
    return out + "}\n"
  }

  static func escape(_ s: String) -> String {
    var r = ""
    for c in s {
      switch c {
      case "\"": r += "\\\""
      case "\\": r += "\\\\"
      case "\n": r += "\\n"
      default: r.append(c)
      }
    }
    return r
  }
}
