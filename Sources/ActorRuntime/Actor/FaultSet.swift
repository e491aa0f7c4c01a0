/// Faults an actor was told to have. Only the runtime reads these: the
/// diagnosis never does (it must name a cause from evidence alone).
public struct FaultSet: Sendable, Equatable {
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
    /// Internal: the hard-kill ladder is off (part of lost-cancel).
    case noHardKill = "no-hard-kill"
  }

  public var faults: Set<Fault>

  public init(_ names: [String]) {
    faults = Set(names.compactMap { Fault(rawValue: $0) })
    if faults.contains(.lostCancel) { faults.insert(.noHardKill) }
  }

  public func has(_ f: Fault) -> Bool { faults.contains(f) }
}
