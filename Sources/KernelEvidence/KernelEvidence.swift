import Synchronization
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
  /// The scan also runs only when a member holds a pipe, a FIFO or a socket:
  /// those are the only fds it can find other ends for, and a tree of
  /// processes with nothing but files and ttys open (the bench's Python tree)
  /// costs ~2 ms less.
  ///
  /// The processes are read on Threads.lookers threads (the reads are
  /// independent). `alongside` runs on the reading thread right after each
  /// process is read: a caller takes the process's stacks there, so that
  /// reading the set and looking at its stacks overlap instead of following
  /// each other.
  public static func snapshot(
    pids: [Int32], includeDescendants: Bool, holdersOutside: Bool,
    alongside: (@Sendable (ProcessSnapshot) -> Void)? = nil
  ) -> KernelSnapshot {
    let t0 = Syscalls.monotonicNs()
    var set = Set<Int32>()
    for p in pids where p > 0 {
      set.insert(p)
      if includeDescendants { set.formUnion(descendants(of: p)) }
    }
    // One sock_diag dump first, so fd classification can attach peers and queue sizes.
    var sockets = SocketTable.dump()
    let table = sockets
    let members = set
    let order = set.sorted()
    let read = Mutex<[Int32: ProcessSnapshot]>([:])
    Threads.forEach(order.count) { i in
      let pid = order[i]
      guard let p = ProcessReader.read(pid: pid, sockets: table) else { return }
      read.withLock { $0[pid] = p }
      alongside?(p)
    }
    var procs = read.withLock { m in order.compactMap { m[$0] } }
    let notUnix = procs.contains { p in
      p.fds.contains { if case .socket(let ino) = $0.kind { return sockets.byInode[ino] == nil } else { return false } }
    }
    if notUnix {
      sockets.addTCP()
      for i in procs.indices {
        for j in procs[i].fds.indices { ProcessReader.attachSocket(&procs[i].fds[j], sockets) }
      }
    }
    let holdsEnds = procs.contains { p in p.fds.contains { $0.kind.mayHaveHoldersOutside } }
    let outside = holdersOutside && holdsEnds ? OtherHolders.scan(excluding: members) : []
    let index = InodeIndex.build(procs: procs, sockets: sockets, others: outside)
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
