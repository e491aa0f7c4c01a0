import KernelEvidence

/// The wait graph of a foreign tree as a verdict shows it, from kernel
/// evidence alone (the same stages as VerdictGraph and WaitChains for our
/// actors):
///  - the cancel-listener rule drops a child's listener edge back to a
///    parent that waits for its exit (CancelListener.foreign);
///  - bystanders are folded: a process nobody waits on whose only wait is
///    a read of a pipe with two or more writers (it waits for everyone to
///    close it), or multiprocessing's resource tracker. Their edges stay in
///    the evidence (JSON keeps every edge), not in the chains;
///  - chains are rooted at the command when it is alive and waits, then at
///    processes nobody waits on; no chain repeats part of a longer one, and
///    a cycle is printed once (WaitGraph.init(nodes:edges:root:));
///  - what is outside every chain and cycle, bystanders and zombies left out.
struct ForeignWaitGraph {
  var listener: CancelListener
  var bystanders: [Bystander]
  var graph: WaitGraph
  var outsideChains: [Int32]
  var zombies: [Int32]

  init(_ ev: Evidence, commandPid: Int32, name: (Int32) -> String) {
    let listener = CancelListener.foreign(ev)
    let all = ev.graph.edges
    let pids = ev.processes.keys.sorted()
    let bystanders = pids.compactMap { p in ForeignWaitGraph.bystander(p, ev, edges: all, name: name(p)) }
    let folded = Set(bystanders.map(\.pid))
    let edges = all.filter { !folded.contains($0.from) && !folded.contains($0.to) && !listener.explains($0) }
    let nodes = pids.filter { !folded.contains($0) }
    let graph = WaitGraph(nodes: nodes, edges: edges, root: ev.processes[commandPid] != nil ? commandPid : nil)
    let zombies = pids.filter { ev.processes[$0]?.state == "Z" }
    let shown = Set(graph.chains.joined()).union(graph.cycles.joined())
    outsideChains = nodes.filter { !shown.contains($0) && !zombies.contains($0) }
    (self.listener, self.bystanders, self.graph, self.zombies) = (listener, bystanders, graph, zombies)
  }

  /// Why `p` is a bystander, or nil.
  static func bystander(_ p: Int32, _ ev: Evidence, edges: [WaitEdge], name: String) -> Bystander? {
    guard let pe = ev.processes[p], !edges.contains(where: { $0.to == p && $0.from != p }) else { return nil }
    if ProcessNaming.identify(argv: pe.cmdline, comm: pe.comm).role == .resourceTracker {
      return Bystander(pid: p, name: name, reason: "multiprocessing's resource tracker: waits for every process to close its pipe")
    }
    let waited = pe.waited
    guard SyscallGroups.reads.contains(pe.syscallName ?? ""), waited.count == 1, let f = waited.first, f.isPipe
    else { return nil }
    let writers = Set(f.holders).subtracting([p])
    guard writers.count >= 2 else { return nil }
    return Bystander(
      pid: p, name: name,
      reason: "reads fd \(f.fd) \(f.link), written by \(writers.count) processes: waits for every one to close it")
  }
}
