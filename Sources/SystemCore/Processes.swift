import CSystem
import Glibc

/// Process creation, reaping and process-wide settings. Every wrapper here is
/// safe in a fork child as long as its doc says "no allocation".
extension Syscalls {
  /// fork(2). Returns 0 in the child, the child's pid in the parent.
  public static func fork() throws(SystemError) -> Int32 {
    try retryingSyscall("fork") { cs_fork() }
  }

  /// _exit(2): ends the process now, without atexit handlers or flushing.
  public static func exitImmediately(_ code: Int32) -> Never { _exit(code) }

  /// exit(3): flushes stdio, runs atexit handlers, then ends the process.
  public static func exit(_ code: Int32) -> Never { Glibc.exit(code) }

  /// getppid(2)
  public static var parentPid: Int32 { getppid() }

  /// gettid(2)
  public static var threadID: Int32 { cs_gettid() }

  /// Threads of this process, counted in /proc/self/task (-1 if unreadable).
  /// No allocation: the FORK probe calls it right before fork.
  public static func threadCount() -> Int32 { cs_thread_count() }

  /// posix_spawn(3) through cs_spawn (`arguments` is argv, argv[0] included): `channel` dup2'ed onto `channelTarget`
  /// (-1: none), stdout/stderr redirected when >= 0, every other fd from 3 up
  /// closed unless `keepFDs`, the environment inherited, signal mask and dispositions reset;
  /// `processGroup` > 0: the child joins that existing group (cs_spawn_in_pgroup).
  public static func spawn(
    _ path: String, arguments: [String], channel: Int32 = -1, channelTarget: Int32 = 3, stdout: Int32 = -1, stderr: Int32 = -1,
    newProcessGroup: Bool = false, keepFDs: Bool = false, processGroup: Int32 = 0
  ) throws(SystemError) -> Int32 {
    var pid: pid_t = 0
    let flags = (newProcessGroup ? CS_SPAWN_NEW_PGROUP : 0) | (keepFDs ? CS_SPAWN_KEEP_FDS : 0)
    let rc = withCStrings(arguments) { argv in
      cs_spawn_in_pgroup(&pid, path, argv, environ, channel, channelTarget, stdout, stderr, Int32(flags), processGroup)
    }
    if rc != 0 { throw SystemError("posix_spawn", errno: rc, context: path) }
    return pid
  }

  /// waitid(P_PIDFD, WEXITED|WNOHANG): the status if the child was reaped
  /// now, nil while it runs. Throws (ECHILD) for a process that is not our
  /// child or was reaped elsewhere.
  public static func reap(pidfd: Int32) throws(SystemError) -> WaitStatus? {
    var raw: Int32 = 0
    let rc = try retryingSyscall("waitid(P_PIDFD)", context: "pidfd \(pidfd)") { cs_waitid_pidfd(pidfd, &raw) }
    return rc == 1 ? WaitStatus(raw: raw) : nil
  }

  /// ioctl(PIDFD_GET_INFO, PIDFD_INFO_EXIT): the exit status of any process
  /// (not only a child) once it has exited; nil while it runs or when the
  /// kernel has no exit info (older than 6.15, or already gone).
  public static func exitStatus(pidfd: Int32) -> WaitStatus? {
    var raw: Int32 = 0
    return cs_pidfd_exit_info(pidfd, &raw) == 0 ? WaitStatus(raw: raw) : nil
  }

  /// waitpid(2), blocking until `pid` exits (EINTR retried); nil on error.
  public static func waitBlocking(_ pid: Int32) -> WaitStatus? {
    var raw: Int32 = 0
    guard let r = try? retryingSyscall("waitpid", { waitpid(pid, &raw, 0) }), r == pid else { return nil }
    return WaitStatus(raw: raw)
  }

  /// What a non-blocking waitpid found.
  public enum Reaped: Sendable, Equatable {
    case exited(pid: Int32, WaitStatus)
    /// Children there, none exited yet.
    case running
    /// No such child (ECHILD), or nothing left to wait for.
    case noChild
  }

  /// waitpid(pid, WNOHANG | __WALL): reaps `pid`, or with -1 any child
  /// (clone children too), if it has exited.
  public static func reapIfExited(_ pid: Int32) -> Reaped {
    var raw: Int32 = 0
    guard let r = try? retryingSyscall("waitpid", { waitpid(pid, &raw, WNOHANG | __WALL) }) else { return .noChild }
    return r > 0 ? .exited(pid: r, WaitStatus(raw: raw)) : .running
  }

  /// poll(2) for POLLIN on one fd, blocking up to `timeoutMs` (-1: forever).
  /// Returns true when readable (or HUP/ERR).
  @discardableResult
  public static func pollReadable(_ fd: Int32, timeoutMs: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    let n = (try? retryingSyscall("poll", { Glibc.poll(&p, 1, timeoutMs) })) ?? 0
    return n > 0
  }

  /// poll(2) for POLLIN on several fds, up to `timeoutMs`: which are readable
  /// (or HUP/ERR). All false on timeout and when a signal interrupted the wait.
  public static func pollReadable(_ fds: [Int32], timeoutMs: Int32) -> [Bool] {
    var p = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
    guard Glibc.poll(&p, nfds_t(p.count), timeoutMs) > 0 else { return fds.map { _ in false } }
    return p.map { $0.revents != 0 }
  }

  /// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of our descendants (setsid
  /// ones too) are reparented to us instead of init, so a tree can be reaped.
  public static func becomeChildSubreaper() throws(SystemError) {
    _ = try retryingSyscall("prctl(PR_SET_CHILD_SUBREAPER)") { cs_set_child_subreaper(1) }
  }

  /// prctl(PR_SET_PDEATHSIG, sig): `sig` when the creating thread dies.
  public static func setParentDeathSignal(_ sig: Int32) throws(SystemError) {
    _ = try retryingSyscall("prctl(PR_SET_PDEATHSIG)") { cs_set_pdeathsig(sig) }
  }

  /// close_range(first, ~0U, 0): closes every fd from `first` up. No allocation.
  public static func closeFrom(_ first: Int32) { _ = cs_close_from(UInt32(first)) }

  /// dup2(2) of `fd` onto `target` (the copy is not close-on-exec). When they
  /// are the same fd, clears FD_CLOEXEC instead, as dup2 would not. No allocation.
  public static func duplicate(_ fd: Int32, onto target: Int32) {
    if fd != target { _ = Glibc.dup2(fd, target) } else { _ = fcntl(target, F_SETFD, 0) }
  }

  /// fcntl(F_SETFD, 0): `fd` survives exec (the inherit-fds fault).
  public static func keepAcrossExec(_ fd: Int32) { _ = fcntl(fd, F_SETFD, 0) }
}

/// The fork-with-threads fault's C side: a detached pthread that takes a
/// process-wide lock and keeps it, as a logging or allocator thread would at
/// an unlucky moment. Fork children of such a process inherit the lock held.
public enum LockHolderThread {
  /// pthread_create of the holder; returns once it holds the lock (0, or an errno).
  @discardableResult
  public static func start() -> Int32 { cs_fault_start_lock_holder() }

  /// pthread_mutex_lock of that lock: in a fork child it never returns.
  public static func takeLock() { cs_fault_take_lock() }
}
