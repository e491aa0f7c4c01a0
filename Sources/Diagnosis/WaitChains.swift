import KernelEvidence

/// Verdict stage 3, the chains: the graph's maximal chains that end where
/// something is stuck, each extended upward through parents that were
/// already waiting on its head, longest first; and the cycles that are
/// waits (the graph's own, and the kernel's minus what the cancel-listener
/// rule explains away), largest first.
struct WaitChains {
  var chains: [[Int32]]
  var cycles: [[Int32]]

  init(_ g: VerdictGraph, table: ActorTable, evidence: Evidence?) {
    let stuck = Set(table.stuck)
    // Keep chains that end where something is stuck: a stuck actor, or a
    // process the kernel saw blocked with nothing further to wait on.
    var chains = g.graph.chains.filter { c in
      c.count > 1 && (stuck.contains(c.last!) || c.contains(where: stuck.contains) || g.kernelEdgeCount > 0)
    }
    // Drop chains contained in longer ones.
    chains = chains.filter { c in !chains.contains { $0.count > c.count && $0.suffix(c.count) == c[...] } }
    chains = chains.map { WaitChains.extendUp($0, g, table) }
    chains.sort { $0.count != $1.count ? $0.count > $1.count : $0.first! < $1.first! }
    self.chains = chains

    let kernelCycles = (evidence?.graph.cycles ?? []).filter { c in
      c.contains(where: table.pids.contains) && !g.listener.explains(cycle: c, edges: evidence?.graph.edges ?? [])
    }
    var cycles: [[Int32]] = []
    for c in g.graph.cycles + kernelCycles where !cycles.contains(where: { Set($0) == Set(c) }) { cycles.append(c) }
    cycles.sort { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
    self.cycles = cycles
  }

  /// A parent that was waiting on the chain's head while the head was
  /// already waiting further down is part of the chain, even if its own
  /// wait ended later (when the ladder killed someone).
  static func extendUp(_ chain: [Int32], _ g: VerdictGraph, _ table: ActorTable) -> [Int32] {
    var c = chain
    while c.count >= 2 {  // ends: a pid already in the chain is never added
      let head = c[0]
      let since = g.probeEdges.filter { $0.from == head && $0.to == c[1] }.map(\.sinceNs).min()
        ?? g.intervals.first { $0.from == head && $0.to == c[1] }?.start ?? 0
      guard let p = table.parentOf[head], table.pids.contains(p), !c.contains(p),
        g.intervals.contains(where: { $0.from == p && $0.to == head && $0.start <= since && ($0.end ?? .max) >= since })
      else { break }
      c.insert(p, at: 0)
    }
    return c
  }

  /// Where the explanation sits higher up a chain than its end (a terminal
  /// that only waits on the process above it), the chain ends there; each
  /// chain once, and none that lies on a longer one.
  static func trimmed(_ chains: [[Int32]], terminals: [TerminalVerdict]) -> [[Int32]] {
    var out: [[Int32]] = []
    for c in chains {
      var t = c
      if let up = terminals.first(where: { u in c.contains(u.pid) && c.last != u.pid && !terminals.contains { $0.pid == c.last } }),
        let i = c.firstIndex(of: up.pid)
      {
        t = Array(c[...i])
      }
      if !out.contains(t) { out.append(t) }
    }
    // A chain cut short may now lie on a longer one: shown once.
    return out.filter { c in !out.contains { $0.count > c.count && WaitGraph.lies(c, on: $0) } }
  }
}
