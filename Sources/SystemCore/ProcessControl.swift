import CSystem
import Glibc

/// The syscalls of process supervision: spawn with an fd table, waits on
/// pidfds and on any child, the subreaper flag, termination signals, and
/// poll(2). The Supervision module is built on these and on `Syscalls`.
public enum ProcessControl {
  /// What the child's fd `i` is (index = child fd).
  public enum ChildFD: Sendable, Equatable {
    case inherit            // 0-2 stay as ours; 3 and up are closed
    case parent(Int32)      // a copy of this fd of ours
  }

  /// posix_spawn(3) (cs_spawn_mapped): `fds` is the child's fd table; every
  /// other fd is closed unless `keepInheritedFDs`; signal mask emptied and
  /// dispositions reset (or, with `callerSignals`, the mask and ignored
  /// signals this process started with); `newProcessGroup` makes it a group
  /// leader, else `processGroup` (> 0) makes it join that existing group.
  public static func spawn(
    _ path: String, argv: [String], fds: [ChildFD], newProcessGroup: Bool, keepInheritedFDs: Bool = false,
    callerSignals: Bool = false, processGroup: Int32 = 0
  ) throws(SystemError) -> Int32 {
    var pid: pid_t = 0
    let table: [Int32] = fds.map { if case .parent(let fd) = $0 { return fd } else { return -1 } }
    let flags =
      (newProcessGroup ? CS_SPAWN_NEW_PGROUP : 0) | (keepInheritedFDs ? CS_SPAWN_KEEP_FDS : 0)
      | (callerSignals ? CS_SPAWN_CALLER_SIGNALS : 0)
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    let rc = table.withUnsafeBufferPointer { t in
      cs_spawn_mapped(&pid, path, &cargs, environ, t.baseAddress, Int32(t.count), Int32(flags), processGroup)
    }
    guard rc == 0 else { throw SystemError("posix_spawn", errno: rc, context: path) }
    return pid
  }

  /// waitid(P_PIDFD, WEXITED | WNOHANG): the status once our child has
  /// exited (and is reaped by this call), nil while it runs; throws ECHILD
  /// when it is not our child or someone else reaped it.
  public static func reap(pidfd: Int32) throws(SystemError) -> WaitStatus? {
    var raw: Int32 = 0
    let rc = try retryingSyscall("waitid(P_PIDFD)") { cs_waitid_pidfd(pidfd, &raw) }
    return rc == 1 ? WaitStatus(raw: raw) : nil
  }

  /// ioctl(PIDFD_GET_INFO, PIDFD_INFO_EXIT): the exit status of a process
  /// that is not our child (its parent reaped it), nil while it runs or
  /// when the kernel kept none.
  public static func exitInfo(pidfd: Int32) -> WaitStatus? {
    var raw: Int32 = 0
    return cs_pidfd_exit_info(pidfd, &raw) == 0 ? WaitStatus(raw: raw) : nil
  }

  /// waitpid(-1, WNOHANG | __WALL): one exited child of ours (any), or nil
  /// when none has exited yet; `.noChildren` when there is no child at all.
  public enum AnyChild { case reaped(Int32, WaitStatus), running, noChildren }
  public static func reapAny() -> AnyChild {
    while true {
      var raw: Int32 = 0
      let p = waitpid(-1, &raw, WNOHANG | __WALL)
      if p > 0 { return .reaped(p, WaitStatus(raw: raw)) }
      if p == 0 { return .running }
      if Glibc.errno == EINTR { continue }
      return .noChildren  // ECHILD
    }
  }

  /// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of our tree are reparented
  /// to us (also ones that called setsid) instead of to init.
  @discardableResult
  public static func becomeChildSubreaper() -> Bool { cs_set_child_subreaper(1) == 0 }

  /// sigprocmask(SIG_BLOCK, {SIGINT, SIGTERM, SIGHUP}) + signalfd(2),
  /// non-blocking (cs_termination_signalfd).
  public static func terminationSignalFD() throws(SystemError) -> FileDescriptor {
    let fd = try retryingSyscall("signalfd") { cs_termination_signalfd() }
    return FileDescriptor(adopting: fd)
  }

  /// sigprocmask(SIG_BLOCK, {SIGCHLD}) + signalfd(2), non-blocking
  /// (cs_child_signalfd): a child's exit as a readable fd.
  public static func childSignalFD() throws(SystemError) -> FileDescriptor {
    let fd = try retryingSyscall("signalfd") { cs_child_signalfd() }
    return FileDescriptor(adopting: fd)
  }

  /// read(2) of one signalfd_siginfo: the signal number, nil when none is pending.
  public static func readSignal(_ fd: Int32) -> Int32? {
    let s = cs_read_signalfd(fd)
    return s > 0 ? s : nil
  }

  /// poll(2) of `fds` for `events` (POLLIN/POLLOUT) up to `timeoutMs`
  /// (-1: no bound). Returns each fd's revents; all 0 on timeout; EINTR is
  /// a timeout (callers loop on their own deadline).
  public static func poll(_ fds: [(fd: Int32, events: Int16)], timeoutMs: Int32) -> [Int16] {
    var p = fds.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
    let n = Glibc.poll(&p, nfds_t(p.count), timeoutMs)
    return n > 0 ? p.map(\.revents) : Array(repeating: 0, count: p.count)
  }

  /// nanosleep(2) for a short pause inside a bounded loop (EINTR ends it early).
  public static func sleep(ms: Int) {
    var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    nanosleep(&ts, nil)
  }

  /// Runs `body` with SIGPIPE blocked in this thread (cs_sigpipe_hold), and
  /// discards one it raised: writing to a filter that died fails with EPIPE.
  public static func withSIGPIPEHeld<R>(_ body: () throws -> R) rethrows -> R {
    let token = cs_sigpipe_hold()
    defer { cs_sigpipe_release(token) }
    return try body()
  }

  /// readlink("/proc/PID/exe"): the executable a process runs, nil if unreadable.
  public static func executablePath(of pid: Int32) -> String? {
    var buf = [UInt8](repeating: 0, count: 4096)
    let n = buf.withUnsafeMutableBytes { readlink("/proc/\(pid)/exe", $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
    return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
  }
}
