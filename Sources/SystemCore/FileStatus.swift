import Glibc

/// What stat(2)/lstat(2) tell about a path, the fields we use.
public struct FileStatus: Sendable, Equatable {
  public var mode: UInt32
  public var inode: UInt64
  public var size: Int
  public var device: UInt64
  /// Modification time (st_mtim).
  public var modifiedSec: Int
  public var modifiedNsec: Int

  public var isFIFO: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFIFO) }
  public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
  public var isRegular: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }

  init(_ st: stat) {
    mode = UInt32(st.st_mode)
    inode = UInt64(st.st_ino)
    size = Int(st.st_size)
    device = UInt64(st.st_dev)
    modifiedSec = Int(st.st_mtim.tv_sec)
    modifiedNsec = Int(st.st_mtim.tv_nsec)
  }
}

extension Syscalls {
  /// stat(2), following symlinks (so /proc/PID/fd/N reaches the open file,
  /// unlinked ones too); nil on error.
  public static func status(_ path: String) -> FileStatus? {
    var st = stat()
    guard (try? retryingSyscall("stat", context: path) { stat(path, &st) }) != nil else { return nil }
    return FileStatus(st)
  }

  /// lstat(2): the link itself, not what it points to; nil on error.
  public static func linkStatus(_ path: String) -> FileStatus? {
    var st = stat()
    guard (try? retryingSyscall("lstat", context: path) { lstat(path, &st) }) != nil else { return nil }
    return FileStatus(st)
  }

  /// unlink(2), or rmdir(2) for a directory; errors ignored (best effort cleanup).
  public static func remove(_ path: String, isDirectory: Bool) {
    if isDirectory { _ = rmdir(path) } else { _ = unlink(path) }
  }

  /// access(path, X_OK)
  public static func isExecutable(_ path: String) -> Bool { access(path, X_OK) == 0 }
}
