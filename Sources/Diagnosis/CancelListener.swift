import KernelEvidence

/// The cancel-listener rule, written once. Every actor's parent-channel
/// loop reads from its parent, listening for a cancel request, so the kernel
/// shows the child "waiting for data" from its parent; and while a parent
/// waits on a child (join, exit, ack), the kernel may show the child's
/// listener as an edge back up. Neither is a wait that holds anything up:
/// the chain runs parent -> child, not back. Room-waits are real (a child
/// blocked writing to its parent). Foreign trees have no recorded parents or
/// probe waits, so nothing is explained away there.
public struct CancelListener: Sendable {
  /// Each actor's logical parent, from its parent's probes (SPAWNED).
  var parentOf: [Int32: Int32]
  /// "from>to" pairs: the probes show `from` waiting on `to`.
  var probeWaits: Set<PidPair>

  public static let none = CancelListener(parentOf: [:], probeWaits: [])

  init(parentOf: [Int32: Int32], probeWaits: Set<PidPair>) {
    self.parentOf = parentOf
    self.probeWaits = probeWaits
  }

  /// True when the kernel edge is the listener (or the reverse of a wait the
  /// probes show), not a wait of its own.
  public func explains(_ e: WaitEdge) -> Bool {
    (parentOf[e.from] == e.to && e.kind != .roomFrom) || probeWaits.contains(PidPair(e.to, e.from))
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
