import CSystem

/// RLIMIT_NOFILE: a 1023-actor tree needs more than the usual soft limit of
/// 1024 fds in the fork server (a pidfd per live actor) and in the tool (a
/// pidfd per process while it kills the tree).
public enum ResourceLimits {
  /// getrlimit(RLIMIT_NOFILE): (soft, hard); nil if it failed.
  public static func openFiles() -> (soft: UInt64, hard: UInt64)? {
    var soft: UInt64 = 0
    var hard: UInt64 = 0
    return cs_get_nofile(&soft, &hard) == 0 ? (soft, hard) : nil
  }

  /// setrlimit(RLIMIT_NOFILE) to raise the soft limit to the hard one.
  /// Returns the soft limit before (to give it back to children), nil if
  /// the limit could not be read.
  @discardableResult
  public static func raiseOpenFilesToHard() -> UInt64? {
    guard let l = openFiles() else { return nil }
    if l.soft < l.hard { _ = cs_set_nofile_soft(l.hard) }
    return l.soft
  }

  /// setrlimit(RLIMIT_NOFILE) with this soft limit (hard kept).
  public static func setOpenFilesSoft(_ soft: UInt64) throws(SystemError) {
    let rc = cs_set_nofile_soft(soft)
    guard rc == 0 else { throw SystemError("setrlimit(RLIMIT_NOFILE)", errno: rc) }
  }
}
