import ActorRuntime

/// A fault tractor-diag can inject: a real bug, reproduced by settings of
/// the runtime (`FaultInjection.settings`). Only this module knows the names.
public enum Fault: String, Sendable, CaseIterable {
  case ignoreCancel = "ignore-cancel"
  case unboundedPeerWait = "unbounded-peer-wait"
  case shieldedParentLoop = "shielded-parent-loop"
  case blockingChildWait = "blocking-child-wait"
  case inheritFds = "inherit-fds"
  case stdioPipe = "stdio-pipe"
  case lostCancel = "lost-cancel"
  case neverExit = "never-exit"
  case bootDeath = "boot-death"
  case forkWithThreads = "fork-with-threads"
  case eofSpin = "eof-spin"
  case forkserverSerial = "forkserver-serial"
}

/// The faults tractor-diag can inject, where each applies by default, and
/// the class the diagnosis must name for it (the classifier itself never
/// sees this table).
public enum FaultCatalog {
  public struct Entry: Sendable {
    public var fault: Fault
    public var name: String { fault.rawValue }
    public var hangClass: String
    public var summary: String
    /// Where it applies without @ACTOR.
    public var defaultTarget: Target
  }

  public enum Target: Sendable {
    case firstSpawnerBelowRoot
    case allNonLeaves  // applies to how parents spawn/supervise
    case wholeTree
    case root
    case firstLeaf
  }

  public static let entries: [Entry] = [
    Entry(fault: .ignoreCancel, hangClass: "uncancellable-task", summary: "a task keeps waiting after its cancel request (default: the first leaf)", defaultTarget: .firstLeaf),
    Entry(fault: .unboundedPeerWait, hangClass: "unbounded-teardown-wait", summary: "actor main's finally waits without bound for peers to disconnect (default: the first spawner below the root)", defaultTarget: .firstSpawnerBelowRoot),
    Entry(fault: .shieldedParentLoop, hangClass: "parent-channel-not-cancelled", summary: "the cancel path forgets the shielded parent-channel loop (default: the first spawner below the root)", defaultTarget: .firstSpawnerBelowRoot),
    Entry(fault: .blockingChildWait, hangClass: "uncancellable-child-wait", summary: "waits for a child's exit with a blocking waitpid cancel cannot interrupt (default: the first spawner below the root)", defaultTarget: .firstSpawnerBelowRoot),
    Entry(fault: .inheritFds, hangClass: "leaked-fd-holds-peer-open", summary: "children keep copies of parent and sibling channel ends, so EOF never comes; their teardown waits for EOF without bound (default: every parent; --backend fork)", defaultTarget: .allNonLeaves),
    Entry(fault: .stdioPipe, hangClass: "blocked-on-full-pipe", summary: "children's stderr is an inherited pipe nobody drains; failing actors write large tracebacks (default: the whole tree)", defaultTarget: .wholeTree),
    Entry(fault: .lostCancel, hangClass: "cancel-not-delivered", summary: "cancel requests to the actor are dropped and the hard-kill ladder is off (default: the first leaf)", defaultTarget: .firstLeaf),
    Entry(fault: .neverExit, hangClass: "exit-not-reached", summary: "teardown completes but the exit call is never reached (default: the first spawner below the root)", defaultTarget: .firstSpawnerBelowRoot),
    Entry(fault: .bootDeath, hangClass: "died-during-boot", summary: "the child dies before connecting back; its parent does not watch for its death (default: the first leaf)", defaultTarget: .firstLeaf),
    Entry(fault: .forkWithThreads, hangClass: "fork-from-multithreaded-parent", summary: "the actor has extra threads when it forks (default: the first spawner below the root; use --backend fork)", defaultTarget: .firstSpawnerBelowRoot),
    Entry(fault: .eofSpin, hangClass: "busy-loop", summary: "a loop spins on EOF of a closed channel and never exits (default: the first leaf)", defaultTarget: .firstLeaf),
    Entry(fault: .forkserverSerial, hangClass: "forkserver-stall", summary: "the fork server serves one client at a time, and a client holds its connection while it waits (default: the first spawner below the root; --backend forkserver)", defaultTarget: .firstSpawnerBelowRoot),
  ]

  public struct FaultError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  /// Adds `NAME[@ACTOR]` faults to the scenario's nodes (names only: call
  /// `FaultInjection.settle` once every fault is in).
  public static func apply(_ specs: [String], to s: inout Scenario) throws(FaultError) {
    for spec in specs {
      let parts = spec.split(separator: "@", maxSplits: 1).map(String.init)
      guard let entry = entries.first(where: { $0.name == parts[0] }) else {
        throw FaultError(description: "unknown fault '\(parts[0])' (see `tractor-diag faults`)")
      }
      let names: [String]
      if parts.count == 2 {
        guard s.root.flatten().contains(where: { $0.0.name == parts[1] }) else {
          throw FaultError(description: "fault \(spec): no actor named '\(parts[1])' in the tree")
        }
        names = [parts[1]]
      } else {
        names = defaultNames(entry.defaultTarget, s.root)
      }
      s.root = add(entry.name, to: Set(names), in: s.root)
    }
  }

  static func defaultNames(_ t: Target, _ root: ActorSpec) -> [String] {
    switch t {
    case .root: return [root.name]
    case .firstSpawnerBelowRoot: return [root.children.first(where: { !$0.children.isEmpty })?.name ?? root.children.first?.name ?? root.name]
    case .allNonLeaves: return root.flatten().filter { !$0.0.children.isEmpty }.map(\.0.name)
    case .wholeTree: return root.flatten().map(\.0.name)
    case .firstLeaf:
      return [root.flatten().first(where: { $0.0.children.isEmpty })?.0.name ?? root.name]
    }
  }

  static func add(_ fault: String, to names: Set<String>, in node: ActorSpec) -> ActorSpec {
    var n = node
    if names.contains(n.name) && !n.faults.contains(fault) { n.faults.append(fault) }
    n.children = n.children.map { add(fault, to: names, in: $0) }
    return n
  }
}
