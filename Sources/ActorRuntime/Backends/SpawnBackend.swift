import CSystem
import Glibc
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

  public init(loop: EventLoop, stderrFD: Int32 = -1) {
    self.loop = loop
    self.stderrFD = stderrFD
  }

  public func start(_ spec: SpawnSpec, probes: ProbeWriter) async throws -> ChildProcess {
    let s = spec.actor.supervision
    return try PosixSpawnBackend.spawnActor(
      executable: spec.actorExecutable,
      arguments: ["actor", "--run-dir", spec.runDir, "--name", spec.actor.name]
        + (s.bootHook == .none ? [] : ["--boot-hook", s.bootHook.rawValue]),
      loop: loop, name: spec.actor.name, stderrFD: stderrFD, inheritFds: s.keepInheritedFds)
  }

  /// Spawns `executable ARGS` with a new socketpair end on fd 3. The
  /// parent's copy of that end is handed over with the child.
  public static func spawnActor(
    executable: String, arguments: [String], loop: EventLoop, name: String, stdoutFD: Int32 = -1, stderrFD: Int32 = -1,
    inheritFds: Bool = false
  ) throws -> ChildProcess {
    let (parentEnd, childEnd) = try Syscalls.socketPair().takeRaw()
    // Until a ChildProcess owns them, every way out closes both ends.
    var handedOver = false
    defer {
      if !handedOver {
        close(parentEnd)
        close(childEnd)
      }
    }
    if inheritFds {
      // Kept inherited fds: the parent's end survives exec in the child too.
      _ = fcntl(parentEnd, F_SETFD, 0)
    }
    var pid: pid_t = 0
    let argv = [executable] + arguments
    let rc = withCStrings(argv) { cargv in
      cs_spawn(&pid, executable, cargv, environ, childEnd, actorChannelFD, stdoutFD, stderrFD, inheritFds ? CS_SPAWN_KEEP_FDS : 0)
    }
    if rc != 0 { throw SystemError("posix_spawn", errno: rc, context: executable) }
    // The child is ours and unreaped, so its pid cannot be reused before this.
    let pidfd = try Syscalls.pidfdOpen(pid).take()
    let child = ChildProcess(
      pid: pid, name: name, pidfd: pidfd, channel: Channel(adopting: parentEnd, loop: loop), isOSChild: true, loop: loop)
    child.childEnd = childEnd
    handedOver = true
    return child
  }
}

/// Calls `body` with a NULL-terminated C array of the strings.
public func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
  var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  ptrs.append(nil)
  defer { for p in ptrs { free(p) } }
  return body(ptrs)
}
