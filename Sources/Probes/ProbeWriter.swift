import Glibc  // O_* flags only
import SystemCore

/// Writes this process's probe events: one `write(2)` per event on an
/// `O_APPEND` file, so that an event written before a SIGKILL is in the log
/// (the kernel owns the data once write returns; nothing is buffered here).
public final class ProbeWriter: @unchecked Sendable {
  // Loop-confined: actor processes are single-threaded, so no lock.
  private let fd: FileDescriptor
  public private(set) var pid: Int32
  public var actor: String

  /// Opens `DIR/PID.jsonl` for appending.
  public init(directory: String, actor: String) throws(SystemError) {
    self.actor = actor
    self.pid = Syscalls.pid
    fd = try Syscalls.open("\(directory)/\(pid).jsonl", O_WRONLY | O_CREAT | O_APPEND)
  }

  /// A writer that drops events (for tests and tools with no run dir).
  public init(discardingFor actor: String) {
    self.actor = actor
    self.pid = Syscalls.pid
    fd = .none
  }

  /// Records one event. Failures are ignored on purpose: a full disk must not
  /// change the behaviour being observed.
  public func record(_ site: String, _ event: String, peer: Int32? = nil, detail: String? = nil) {
    guard fd.isOpen else { return }
    // Built into a preallocated buffer (no String appends): this runs on
    // every probe. One builder for every probe line (ProbeLine).
    let count = ProbeLine.build(
      into: line, t: Syscalls.monotonicNs(), pid: pid, actor: actor, site: site, event: event, peer: peer, detail: detail)
    // One write(2) (O_APPEND: a short write only happens on a full disk).
    try? fd.writeAll(UnsafeRawBufferPointer(start: line, count: count))
  }

  private let line = UnsafeMutablePointer<UInt8>.allocate(capacity: ProbeLine.capacity)

  deinit { line.deallocate() }
}
