import Probes
import SystemCore

/// How an actor process comes to exist. Every backend hands back the same
/// thing: a pid, a pidfd and the parent's end of a socketpair whose other end
/// is fd 3 in the child.
public protocol SpawnBackend: Sendable {
  var name: String { get }
  func start(_ spec: SpawnSpec, probes: ProbeWriter) async throws -> ChildProcess
}

/// The fd number an actor finds its parent channel on.
public let actorChannelFD: Int32 = 3

public enum Backends {
  public static let names = ["spawn", "fork", "forkserver"]

  public static func make(_ name: String, loop: EventLoop) -> (any SpawnBackend)? {
    switch name {
    case "spawn": return PosixSpawnBackend(loop: loop)
    case "fork": return ForkBackend(loop: loop)
    case "forkserver": return ForkServerClient(loop: loop)
    default: return nil
    }
  }
}

/// `spawn`: posix_spawn of the actor executable, a fresh process image.
public struct PosixSpawnBackend: SpawnBackend, @unchecked Sendable {
  public let name = "spawn"
  let loop: EventLoop
  /// Where the child's stderr goes (-1: inherited).
  var stderrFD: Int32 = -1
  /// The process group the child joins (the supervisor's TreeKeeper's for
  /// the root), 0: the parent's, as every actor's child does.
  var processGroup: Int32 = 0

  public init(loop: EventLoop, stderrFD: Int32 = -1, processGroup: Int32 = 0) {
    self.loop = loop
    self.stderrFD = stderrFD
    self.processGroup = processGroup
  }

  public func start(_ spec: SpawnSpec, probes: ProbeWriter) async throws -> ChildProcess {
    let s = spec.actor.supervision
    return try PosixSpawnBackend.spawnActor(
      executable: spec.actorExecutable,
      arguments: ["actor", "--run-dir", spec.runDir, "--name", spec.actor.name]
        + (s.bootHook == .none ? [] : ["--boot-hook", s.bootHook.rawValue]),
      loop: loop, name: spec.actor.name, stderrFD: stderrFD, inheritFds: s.keepInheritedFds, processGroup: processGroup)
  }

  /// Spawns `executable ARGS` with a new socketpair end on fd 3. The
  /// parent's copy of that end is handed over with the child.
  public static func spawnActor(
    executable: String, arguments: [String], loop: EventLoop, name: String, stdoutFD: Int32 = -1, stderrFD: Int32 = -1,
    inheritFds: Bool = false, processGroup: Int32 = 0
  ) throws -> ChildProcess {
    // Both ends are closed on every way out but the hand-over below.
    let pair = try Syscalls.socketPair()
    let parentEnd = pair.first
    let childEnd = pair.second
    if inheritFds {
      // Kept inherited fds: the parent's end survives exec in the child too.
      Syscalls.keepAcrossExec(parentEnd.rawValue)
    }
    let pid = try Syscalls.spawn(
      executable, arguments: [executable] + arguments, channel: childEnd.rawValue, channelTarget: actorChannelFD,
      stdout: stdoutFD, stderr: stderrFD, keepFDs: inheritFds, processGroup: processGroup)
    // The child is ours and unreaped, so its pid cannot be reused before this.
    let child = ChildProcess(
      pid: pid, name: name, pidfd: try Syscalls.pidfdOpen(pid), channel: Channel(owning: parentEnd, loop: loop),
      isOSChild: true, loop: loop)
    child.childEnd = childEnd
    return child
  }
}
