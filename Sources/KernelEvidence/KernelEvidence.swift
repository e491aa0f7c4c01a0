import SystemCore
/// Entry points: read a process set from /proc and sock_diag, derive its wait-for graph.
public enum KernelEvidence {
  /// All descendants of `pid` (via /proc/P/task/*/children, recursively; zombies included), not pid itself.
  public static func descendants(of pid: Int32) -> [Int32] { ProcessList.descendants(of: pid) }

  /// Snapshot the given pids (and, with includeDescendants, all their descendants). Processes that
  /// vanish mid-read are dropped silently: never crash, never throw for ESRCH/ENOENT.
  public static func snapshot(pids: [Int32], includeDescendants: Bool) -> KernelSnapshot {
    snapshot(pids: pids, includeDescendants: includeDescendants, holdersOutside: true)
  }

  /// `holdersOutside` false skips the scan of every other process's fds for
  /// the other ends of the set's pipes and sockets: edges only join members
  /// anyway, and the scan is about half of a snapshot's cost (a light sample).
  public static func snapshot(pids: [Int32], includeDescendants: Bool, holdersOutside: Bool) -> KernelSnapshot {
    let t0 = Syscalls.monotonicNs()
    var set = Set<Int32>()
    for p in pids where p > 0 {
      set.insert(p)
      if includeDescendants { set.formUnion(descendants(of: p)) }
    }
    // One sock_diag dump first, so fd classification can attach peers and queue sizes.
    var sockets = SocketTable.dump()
    var procs: [ProcessSnapshot] = []
    for pid in set.sorted() {
      if let p = ProcessReader.read(pid: pid, sockets: sockets) { procs.append(p) }
    }
    let notUnix = procs.contains { p in
      p.fds.contains { if case .socket(let ino) = $0.kind { return sockets.byInode[ino] == nil } else { return false } }
    }
    if notUnix {
      sockets.addTCP()
      for i in procs.indices {
        for j in procs[i].fds.indices { ProcessReader.attachSocket(&procs[i].fds[j], sockets) }
      }
    }
    let index = InodeIndex.build(procs: procs, sockets: sockets, scanOthers: holdersOutside)
    for i in procs.indices {
      for j in procs[i].fds.indices {
        procs[i].fds[j].peers = index.peers(of: procs[i].fds[j])
        procs[i].fds[j].wakeup = procs[i].fds[j].isWakeup(ownPid: procs[i].pid)
      }
    }
    let derived = WaitEdgeDerivation.derive(procs: procs, index: index, sockets: sockets)
    // Zombies are consequences (of a parent that does not reap), never terminals.
    let graph = WaitGraph(nodes: procs.filter { !$0.isZombie }.map { $0.pid }, edges: derived.edges)
    return KernelSnapshot(processes: procs, graph: graph, unexplained: derived.unexplained,
                          elapsedNs: Syscalls.monotonicNs() &- t0)
  }
}
