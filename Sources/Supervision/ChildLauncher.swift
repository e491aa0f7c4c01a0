import Glibc
import SystemCore

/// What to start: the executable, argv (argv[0] included), and the child's
/// fd table (index = child fd; everything not listed is closed).
public struct LaunchSpec: Sendable {
  public var executable: String
  public var arguments: [String]
  public var fds: [ProcessControl.ChildFD]
  /// The child leads a new process group: its tree is ours to end, and the
  /// terminal's Ctrl-C goes to us, not to it.
  public var newProcessGroup: Bool
  /// The child keeps every fd we hold (watch: a command that expects its
  /// caller's fds). Otherwise only `fds` reach it.
  public var keepInheritedFDs: Bool
  /// The child starts with the signal mask and ignored signals this process
  /// was started with (watch: the command is run as it was given), instead
  /// of an empty mask and every disposition at its default (actors, filters).
  public var callerSignals: Bool
  /// An existing process group the child joins (a TreeKeeper's), 0: ours.
  /// Ignored with `newProcessGroup`.
  public var processGroup: Int32

  public init(
    executable: String, arguments: [String], fds: [ProcessControl.ChildFD] = [.inherit, .inherit, .inherit],
    newProcessGroup: Bool = false, keepInheritedFDs: Bool = false, callerSignals: Bool = false,
    processGroup: Int32 = 0
  ) {
    self.callerSignals = callerSignals
    self.executable = executable
    self.arguments = arguments
    self.fds = fds
    self.newProcessGroup = newProcessGroup
    self.keepInheritedFDs = keepInheritedFDs
    self.processGroup = processGroup
  }
}

/// Starts children with posix_spawn, never fork: the tool may have threads,
/// and a fork of a multi-threaded process can inherit a held lock.
public enum ChildLauncher {
  /// posix_spawn + pidfd_open. The pidfd is opened before anyone here can
  /// reap the child (only this thread reaps), so it names this child.
  public static func launch(_ spec: LaunchSpec) throws(SystemError) -> OwnedChild {
    let pid = try ProcessControl.spawn(
      spec.executable, argv: spec.arguments, fds: spec.fds, newProcessGroup: spec.newProcessGroup,
      keepInheritedFDs: spec.keepInheritedFDs, callerSignals: spec.callerSignals, processGroup: spec.processGroup)
    do {
      return OwnedChild(pid: pid, pidfd: try Syscalls.pidfdOpen(pid))
    } catch {
      // No pidfd, no safe handle: end it now rather than leak it.
      Syscalls.kill(pid, SIGKILL)
      TreeReaper.reapAll(boundMs: 0)  // what is not reaped here, the final tree teardown reaps
      throw error
    }
  }
}
