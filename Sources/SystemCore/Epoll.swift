import CSystem
import Glibc

/// An epoll instance (epoll_create1(EPOLL_CLOEXEC)) owning its fd. Each
/// registered fd carries its own number as the event's data.
public struct Epoll: ~Copyable {
  public private(set) var descriptor: FileDescriptor

  // Computed, not stored: no lazy-global initialisation on the loop's hot path.
  public static var readable: UInt32 { CS_EPOLLIN }
  public static var writable: UInt32 { CS_EPOLLOUT }
  public static var hangup: UInt32 { CS_EPOLLHUP }
  public static var error: UInt32 { CS_EPOLLERR }
  public static var peerClosed: UInt32 { CS_EPOLLRDHUP }

  /// epoll_create1(2)
  public init() throws(SystemError) {
    descriptor = FileDescriptor(adopting: try retryingSyscall("epoll_create1") { cs_epoll_create() })
  }

  /// In a fork child: a fresh instance, the inherited fd left as it is (the
  /// child's fd sweep has closed it, or the child keeps every fd on purpose).
  public mutating func recreateAfterFork() throws(SystemError) {
    descriptor.relinquish()
    descriptor.replace(with: FileDescriptor(adopting: try retryingSyscall("epoll_create1") { cs_epoll_create() }))
  }

  /// epoll_ctl(EPOLL_CTL_ADD)
  public func add(_ fd: Int32, _ events: UInt32) throws(SystemError) {
    _ = try retryingSyscall("epoll_ctl(ADD)", context: "fd \(fd)") {
      cs_epoll_ctl(descriptor.rawValue, CS_EPOLL_CTL_ADD, fd, events, UInt64(UInt32(bitPattern: fd)))
    }
  }

  /// epoll_ctl(EPOLL_CTL_MOD)
  public func modify(_ fd: Int32, _ events: UInt32) throws(SystemError) {
    _ = try retryingSyscall("epoll_ctl(MOD)", context: "fd \(fd)") {
      cs_epoll_ctl(descriptor.rawValue, CS_EPOLL_CTL_MOD, fd, events, UInt64(UInt32(bitPattern: fd)))
    }
  }

  /// epoll_ctl(EPOLL_CTL_DEL); an fd already closed (EBADF) or not
  /// registered (ENOENT) is not an error: the kernel dropped it already.
  public func remove(_ fd: Int32) {
    _ = cs_epoll_ctl(descriptor.rawValue, CS_EPOLL_CTL_DEL, fd, 0, 0)
  }

  /// epoll_wait(2) into caller-owned arrays (the loop reuses them: no
  /// allocation per wait), `timeoutMs` -1 = forever. Returns how many entries
  /// were filled; `Epoll.fd(data[k])` is the ready fd. 0 on timeout and when
  /// a signal interrupted the wait: the caller re-checks its timers anyway,
  /// so EINTR is not retried here with a stale timeout.
  public func wait(data: inout [UInt64], events: inout [UInt32], timeoutMs: Int32) throws(SystemError) -> Int {
    let n = cs_epoll_wait(descriptor.rawValue, &data, &events, Int32(min(data.count, events.count)), timeoutMs)
    if n < 0 {
      let e = Glibc.errno
      if e == EINTR { return 0 }
      throw SystemError("epoll_wait", errno: e, context: "epoll fd \(descriptor.rawValue)")
    }
    return Int(n)
  }

  /// The fd a registration's event data names.
  @inline(__always) public static func fd(_ data: UInt64) -> Int32 { Int32(truncatingIfNeeded: data) }
}
