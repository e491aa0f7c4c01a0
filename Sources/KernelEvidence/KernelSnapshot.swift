/// A point-in-time view of a process set and the wait-for graph between its members.
public struct KernelSnapshot: Sendable {
  /// Sorted by pid.
  public var processes: [ProcessSnapshot]
  public var edges: [WaitEdge]
  /// pid -> what it is blocked on that maps to no process in the set.
  public var unexplained: [Int32: String]
  /// Maximal wait chains, root-most first; the last element is where the chain ends.
  public var chains: [[Int32]]
  /// Each cycle once, starting at its smallest pid.
  public var cycles: [[Int32]]
  /// Processes in the set that wait on nothing inside the set.
  public var terminals: [Int32]
  public var elapsedNs: UInt64

  public init(processes: [ProcessSnapshot], edges: [WaitEdge], unexplained: [Int32: String],
              chains: [[Int32]], cycles: [[Int32]], terminals: [Int32], elapsedNs: UInt64) {
    self.processes = processes
    self.edges = edges
    self.unexplained = unexplained
    self.chains = chains
    self.cycles = cycles
    self.terminals = terminals
    self.elapsedNs = elapsedNs
  }

  public func process(_ pid: Int32) -> ProcessSnapshot? {
    processes.first { $0.pid == pid }
  }
}
