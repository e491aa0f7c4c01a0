import Glibc
import SystemCore

/// Ends a tree when the tool that supervises it dies without doing so
/// itself (SIGKILL, a crash): nothing of a run, or of a watched command,
/// outlives tractor-diag.
///
/// The keeper is a small process the tool starts first, as the leader of a
/// new process group; the tree's first processes (the root, the fork
/// server, watch's command) are spawned into that group, and every process
/// they fork inherits it. The keeper waits on the tool's pidfd; when it
/// turns readable the tool is gone, and the keeper sends SIGKILL to its
/// whole group, itself included. One kill(2) of a group reaches every
/// member, and a fork racing it gets the signal too (the kernel restarts a
/// fork that a group signal interrupts), so there is no window where a new
/// process escapes.
///
/// The keeper ignores SIGTERM, SIGINT and SIGHUP: watch's polite end sends
/// SIGTERM to the command's process group, which is the keeper's, and a
/// keeper that died of it would leave the tree unguarded during the term
/// grace. It still dies of the group's SIGKILL at the end, or of the tool's
/// tree teardown (it is the tool's child).
///
/// The keeper is not part of the tree: `TreeReaper.liveDescendants` leaves
/// it out (every walk of what the tree holds: evidence, verdicts, leak and
/// lingering checks, group members), while the teardown still kills it.
///
/// Why not PR_SET_PDEATHSIG on actors: an actor that outlives its logical
/// parent is a hang the tool must see and report; the keeper acts only
/// when the tool itself is gone. A process that moves itself to another
/// group (setsid, setpgid) escapes the keeper but not the tool's own
/// teardown, which walks the tree as subreaper.
public enum TreeKeeper {
  /// How long `start` waits for the keeper to report ready (exec of the
  /// static tractor-actor to its first write takes about 1 ms).
  static let readyBoundMs: Int32 = 2000

  /// Starts `executable keeper --tool OURPID` in a new process group with
  /// /dev/null as stdin and stderr and a pipe as stdout, and waits until it
  /// writes one byte there: by then it ignores the termination signals and
  /// holds our pidfd, so the tree spawned into its group is guarded from
  /// its first instant. It then holds none of our fds (a reader of our
  /// output sees EOF when we exit). Its pid is the group to spawn into;
  /// it is registered as `TreeReaper.keeper`.
  public static func start(executable: String) throws(SystemError) -> OwnedChild {
    let null = try Syscalls.open("/dev/null", O_RDWR)
    let pipe = try Syscalls.pipe()
    let n = ProcessControl.ChildFD.parent(null.rawValue)
    var child = try ChildLauncher.launch(
      LaunchSpec(
        executable: executable, arguments: [executable, "keeper", "--tool", "\(getpid())"],
        fds: [n, .parent(pipe.second.rawValue), n], newProcessGroup: true))
    var writeEnd = pipe.second
    writeEnd.close()  // EOF on the read end if the keeper dies before it is ready
    let readEnd = pipe.first
    var byte: [UInt8] = [0]
    let ready =
      ProcessControl.poll([(readEnd.rawValue, Int16(POLLIN))], timeoutMs: readyBoundMs)[0] != 0
      && byte.withUnsafeMutableBytes { (try? readEnd.read(into: $0)) ?? 0 } == 1
    guard ready else {
      _ = child.tearDown(.kill(reapBoundMs: 1000))
      throw SystemError("tree keeper start", errno: ETIMEDOUT, context: executable)
    }
    TreeReaper.keeper = child.pid
    return child
  }

  /// The keeper process: ignores the termination signals, reports ready on
  /// fd 1 (then closes it), waits until `toolPid` is gone, then kills its
  /// own process group. Started by `start`, so the tool is our parent; if
  /// it is not (the tool died before we looked), the group is killed at once.
  public static func main(toolPid: Int32) -> Never {
    Syscalls.ignore(signals: [SIGTERM, SIGINT, SIGHUP])
    let tool = try? Syscalls.pidfdOpen(toolPid)
    Syscalls.write("k", to: 1)
    _ = FileDescriptor(adopting: 1)  // closed as it dies: the tool's pipe holds no writer of ours
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
