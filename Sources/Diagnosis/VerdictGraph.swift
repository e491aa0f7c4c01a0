import KernelEvidence
import Probes

/// Verdict stage 2, the graph: one wait graph over the actors, from
///  - probe edges: P entered a wait on C and never left it, or left it only
///    because it hard-killed C (only those toward a stuck actor, or open);
///  - kernel edges from evidence.json (each stall, then the deadline),
///    minus what the cancel-listener rule explains away.
struct VerdictGraph {
  var probeEdges: [ProbeWaitEdge]
  /// Every probe wait interval except the supervisor's.
  var intervals: [WaitInterval]
  var listener: CancelListener
  var graph: WaitGraph
  /// Kernel edges that are waits (not explained away).
  var kernelEdgeCount = 0
  /// Every edge offered to the graph (probe and kernel): the graph keeps
  /// one per pair, a drawing shows each kind with its fd (`--format dot`).
  var drawn: [WaitEdge] = []

  init(table: ActorTable, byPid: [Int32: [ProbeEvent]], evidence: Evidence?, supervisorPid: Int32?) {
    intervals = ProbeWaitEdges.intervals(byPid).filter { $0.from != supervisorPid }
    probeEdges = ProbeWaitEdges.derive(byPid, intervals: intervals).filter {
      $0.from != supervisorPid && table.pids.contains($0.to)
    }
    let waits = Set(intervals.map { PidPair($0.from, $0.to) }).union(probeEdges.map { PidPair($0.from, $0.to) })
    listener = CancelListener(parentOf: table.parentOf, probeWaits: waits)
    let stuck = Set(table.stuck)
    var edges: [WaitEdge] = []
    var drawn: [WaitEdge] = []
    func add(_ e: WaitEdge) -> Bool {
      guard e.from != e.to, table.pids.contains(e.from), table.pids.contains(e.to) else { return false }
      if !drawn.contains(e) { drawn.append(e) }
      guard !edges.contains(where: { $0.from == e.from && $0.to == e.to }) else { return false }
      edges.append(e)
      return true
    }
    for e in probeEdges where stuck.contains(e.to) || e.open { _ = add(e.waitEdge) }
    // Every kernel edge that is a wait counts, in the tree or not (the fork
    // server's): the kernel saw someone blocked.
    for e in evidence?.graph.edges ?? [] where !listener.explains(e) {
      _ = add(e)
      kernelEdgeCount += 1
    }
    self.drawn = drawn
    // Where every actor in the graph is waited on (a cycle), chains start anywhere.
    graph = WaitGraph(nodes: table.actors.map(\.pid), edges: edges, startAnywhere: true)
  }
}

extension ProbeWaitEdge {
  /// As an edge of the wait graph: a join or exit wait waits for the child's
  /// exit; a connect-back or cancel ack waits for the child's message.
  var waitEdge: WaitEdge {
    let kind: WaitKind = site == "connect_back" || site == "cancel_actor" ? .dataFrom : .exitOf
    let how = open ? "never returned" : "returned only after \(forced ?? "a kill")"
    return WaitEdge(from: from, to: to, kind: kind, evidence: "probes \(from): \(site) ENTER on \(to), \(how)")
  }
}
