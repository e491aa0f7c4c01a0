import KernelEvidence

/// The cancel-listener rule, written once, for our actors and foreign trees
/// alike. A child listens on its parent's channel (for a cancel request, or
/// the next message), so the kernel shows the child "waiting for data" from
/// its parent; while the parent waits on that child (join, exit, ack), that
/// listener is not a wait that holds anything up: the chain runs parent ->
/// child, not back. Room-waits are real (a child blocked writing to its
/// parent).
///
/// Our actors' parents and waits come from probes. A foreign tree has none,
/// so there the rule needs the kernel to show both halves: the parent waits
/// for the child's exit (a waits-exit-of edge: wait4, a pidfd, a
/// multiprocessing sentinel), and the child sits in an event-loop wait
/// (epoll/poll/select), where the listener is one watched fd among others.
/// A child blocked in a plain recv()/read() on the parent's channel alone
/// stays a real edge: only the parent can release it (pidfd_cycle.py).
public struct CancelListener: Sendable {
  /// Each process's parent: from its parent's probes (SPAWNED) for our
  /// actors, the kernel's ppid for a foreign tree.
  var parentOf: [Int32: Int32]
  /// "from>to" pairs: the probes show `from` waiting on `to`.
  var probeWaits: Set<PidPair>
  /// Foreign trees only (nil for our actors): parent -> child exit waits
  /// the kernel saw, and the processes blocked in an event-loop wait.
  var kernelProof: KernelProof?

  struct KernelProof: Sendable {
    var exitWaits: Set<PidPair>
    var eventLoopWaiters: Set<Int32>
  }

  public static let none = CancelListener(parentOf: [:], probeWaits: [])

  init(parentOf: [Int32: Int32], probeWaits: Set<PidPair>, kernelProof: KernelProof? = nil) {
    self.parentOf = parentOf
    self.probeWaits = probeWaits
    self.kernelProof = kernelProof
  }

  /// Syscalls of an event loop: the listener is one watched fd of many.
  static let eventLoopWaits: Set<String> = ["epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6"]

  /// The rule for a foreign tree, from kernel evidence alone.
  public static func foreign(_ ev: Evidence) -> CancelListener {
    var parentOf: [Int32: Int32] = [:]
    for (pid, p) in ev.processes where ev.processes[p.ppid] != nil { parentOf[pid] = p.ppid }
    let exits = Set(ev.graph.edges.filter { $0.kind == .exitOf }.map { PidPair($0.from, $0.to) })
    let loops = Set(ev.processes.values.filter { eventLoopWaits.contains($0.syscallName ?? "") }.map(\.pid))
    return CancelListener(
      parentOf: parentOf, probeWaits: [], kernelProof: KernelProof(exitWaits: exits, eventLoopWaiters: loops))
  }

  /// True when the kernel edge is the listener (or the reverse of a wait the
  /// probes show), not a wait of its own.
  public func explains(_ e: WaitEdge) -> Bool {
    if probeWaits.contains(PidPair(e.to, e.from)) { return true }
    guard parentOf[e.from] == e.to, e.kind != .roomFrom else { return false }
    guard let k = kernelProof else { return true }
    return e.kind == .dataFrom && k.exitWaits.contains(PidPair(e.to, e.from)) && k.eventLoopWaiters.contains(e.from)
  }

  /// True when some step of the cycle has only explained-away kernel edges.
  public func explains(cycle c: [Int32], edges: [WaitEdge]) -> Bool {
    for (i, a) in c.enumerated() {
      let b = c[(i + 1) % c.count]
      if probeWaits.contains(PidPair(b, a)) { return true }
      let step = edges.filter { $0.from == a && $0.to == b }
      if !step.isEmpty && step.allSatisfy(explains) { return true }
    }
    return false
  }
}

/// A directed pair of pids: `from` waits on `to`.
struct PidPair: Hashable, Sendable {
  var from: Int32
  var to: Int32
  init(_ from: Int32, _ to: Int32) {
    self.from = from
    self.to = to
  }
}
