/// What an fd points at, from readlink(2) of /proc/PID/fd/N plus /proc/PID/fdinfo/N.
public enum FDKind: Sendable, Hashable {
  case socket(inode: UInt64)
  case pipe(inode: UInt64)
  /// fdinfo "Pid:" line; -1 once the target has been reaped.
  case pidfd(pid: Int32)
  /// fdinfo "tfd:" lines: fd numbers (in the same process) the epoll instance watches.
  case epoll(watched: [Int32])
  case file(path: String)
  case other(String)
}
