import Glibc
import SystemCore

/// Ends a tree when the tool that supervises it dies without doing so
/// itself (SIGKILL, a crash): nothing of a run outlives tractor-diag.
///
/// The keeper is a small process the tool starts first, as the leader of a
/// new process group; the tree's first processes (the root, or the fork
/// server) are spawned into that group, and every actor inherits it. The
/// keeper waits on the tool's pidfd; when it turns readable the tool is
/// gone, and the keeper sends SIGKILL to its whole group, itself included.
/// One kill(2) of a group reaches every member, and a fork racing it gets
/// the signal too (the kernel restarts a fork that a group signal
/// interrupts), so there is no window where a new actor escapes.
///
/// Why not PR_SET_PDEATHSIG on actors: an actor that outlives its logical
/// parent is a hang the tool must see and report; the keeper acts only
/// when the tool itself is gone. In a normal run the tool's own teardown
/// kills the keeper with the rest of its descendants.
/// An actor that moves itself to another group (setsid) escapes the keeper
/// but not the tool's own teardown, which walks the tree as subreaper.
public enum TreeKeeper {
  /// Starts `executable keeper --tool OURPID` in a new process group with
  /// /dev/null as stdio (it holds none of our fds, so a reader of our
  /// output sees EOF when we exit). Its pid is the group to spawn the tree into.
  public static func start(executable: String) throws(SystemError) -> OwnedChild {
    let null = try Syscalls.open("/dev/null", O_RDWR)
    let n = ProcessControl.ChildFD.parent(null.rawValue)
    return try ChildLauncher.launch(
      LaunchSpec(
        executable: executable, arguments: [executable, "keeper", "--tool", "\(getpid())"], fds: [n, n, n],
        newProcessGroup: true))
  }

  /// The keeper process: waits until `toolPid` is gone, then kills its own
  /// process group. Started by `start`, so the tool is our parent; if it is
  /// not (the tool died before we looked), the group is killed at once.
  public static func main(toolPid: Int32) -> Never {
    let tool = try? Syscalls.pidfdOpen(toolPid)
    if let tool, getppid() == toolPid {
      // Woken each second to notice a lost parent even if the pidfd did
      // not (it always does; this bounds the wait regardless).
      while getppid() == toolPid {
        if ProcessControl.poll([(tool.rawValue, Int16(POLLIN))], timeoutMs: 1000)[0] != 0 { break }
      }
    }
    Syscalls.kill(0, SIGKILL)  // the whole group, this process last
    Syscalls.exitImmediately(0)
  }
}
