/// A point-in-time view of a process set and the wait-for graph between its members.
public struct KernelSnapshot: Sendable {
  /// Sorted by pid.
  public var processes: [ProcessSnapshot]
  /// Kernel wait-for edges between members, and their shape.
  public var graph: WaitGraph
  /// pid -> what it is blocked on that maps to no process in the set.
  public var unexplained: [Int32: String]
  public var elapsedNs: UInt64

  public init(processes: [ProcessSnapshot], graph: WaitGraph, unexplained: [Int32: String], elapsedNs: UInt64) {
    self.processes = processes
    self.graph = graph
    self.unexplained = unexplained
    self.elapsedNs = elapsedNs
  }

  public var edges: [WaitEdge] { graph.edges }
  /// Maximal wait chains, root-most first; the last element is where the chain ends.
  public var chains: [[Int32]] { graph.chains }
  /// Each cycle once, starting at its smallest pid.
  public var cycles: [[Int32]] { graph.cycles }
  /// Processes in the set that wait on nothing inside the set.
  public var terminals: [Int32] { graph.terminals }

  /// Zombie pid -> the parent that has not reaped it: consequences, listed
  /// as "zombie N, not reaped by P", never terminals or stuck processes.
  public var zombies: [Int32: Int32] {
    Dictionary(uniqueKeysWithValues: processes.filter(\.isZombie).map { ($0.pid, $0.ppid) })
  }

  public func process(_ pid: Int32) -> ProcessSnapshot? {
    processes.first { $0.pid == pid }
  }
}
