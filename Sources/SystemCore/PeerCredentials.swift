import CSystem
import Glibc

/// Who connected to a Unix socket, as the kernel recorded it at connect(2).
public struct PeerCredentials: Sendable, Equatable {
  public var pid: Int32
  public var uid: UInt32
  public var gid: UInt32

  /// getsockopt(SO_PEERCRED) of a connected (or accepted) Unix socket.
  public static func of(_ fd: Int32) throws(SystemError) -> PeerCredentials {
    var c = PeerCredentials(pid: 0, uid: 0, gid: 0)
    let rc = cs_peer_credentials(fd, &c.pid, &c.uid, &c.gid)
    guard rc == 0 else { throw SystemError("getsockopt(SO_PEERCRED)", errno: rc) }
    return c
  }

  /// getuid(2)
  public static var ourUID: UInt32 { getuid() }
}

extension ProcessList {
  /// Whether `pid` is `ancestor` or below it, by the ppid chain of
  /// /proc/PID/stat (at most `maxDepth` steps up; false once the chain
  /// reaches init or a process that is gone).
  public static func isDescendant(_ pid: Int32, of ancestor: Int32, maxDepth: Int = 64) -> Bool {
    var p = pid
    for _ in 0..<maxDepth {
      if p == ancestor { return true }
      guard p > 1, let st = ProcStat.read(pid: p) else { return false }
      p = st.ppid
    }
    return false
  }
}
