import Glibc
import SystemCore

/// Writes this process's probe events: one `write(2)` per event on an
/// `O_APPEND` file, so that an event written before a SIGKILL is in the log
/// (the kernel owns the data once write returns; nothing is buffered here).
public final class ProbeWriter: @unchecked Sendable {
  // Loop-confined: actor processes are single-threaded, so no lock.
  private var fd: Int32
  public private(set) var pid: Int32
  public var actor: String
  private let directory: String

  /// Opens `DIR/PID.jsonl` for appending.
  public init(directory: String, actor: String) throws(SystemError) {
    self.directory = directory
    self.actor = actor
    self.pid = getpid()
    let f = try Syscalls.open("\(directory)/\(pid).jsonl", O_WRONLY | O_CREAT | O_APPEND)
    fd = f.take()
  }

  /// A writer that drops events (for tests and tools with no run dir).
  public init(discardingFor actor: String) {
    self.directory = ""
    self.actor = actor
    self.pid = getpid()
    fd = -1
  }

  /// After fork the child must not append to its parent's file: reopen under
  /// the child's own pid. The old fd is closed by the fork child's fd sweep.
  public func reopenAfterFork(actor: String) throws(SystemError) {
    self.actor = actor
    pid = getpid()
    guard !directory.isEmpty else { return }
    let f = try Syscalls.open("\(directory)/\(pid).jsonl", O_WRONLY | O_CREAT | O_APPEND)
    fd = f.take()
  }

  public var rawFD: Int32 { fd }

  /// Records one event. Failures are ignored on purpose: a full disk must not
  /// change the behaviour being observed.
  @inline(__always)
  public func record(_ site: String, _ event: String, peer: Int32? = nil, detail: String? = nil) {
    guard fd >= 0 else { return }
    var line = ProbeEvent(
      t: Syscalls.monotonicNs(), pid: pid, actor: actor, site: site, event: event, peer: peer, detail: detail
    ).line
    line.withUTF8 { b in
      var off = 0
      while off < b.count {
        let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
        if n < 0 { if errno == EINTR { continue }; return }
        off += n
      }
    }
  }

  deinit { if fd >= 0 { close(fd) } }
}
