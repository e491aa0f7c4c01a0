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

extension FDKind {
  /// A pipe, FIFO or socket: the only kinds whose other end another process
  /// can hold, so the only reason to scan every other process's fds.
  var mayHaveHoldersOutside: Bool {
    switch self {
    case .socket, .pipe: return true
    case .pidfd, .epoll, .file, .other: return false
    }
  }
}
