import CSystem
import Glibc

/// An fd owned by exactly one value: it is closed when the value dies, unless
/// it was handed off with `take()`. Non-copyable so that a duplicate owner
/// (and a double close, or an fd leaked into a child) cannot be written.
public struct FileDescriptor: ~Copyable, @unchecked Sendable {
  public private(set) var rawValue: Int32

  public init(adopting raw: Int32) { rawValue = raw }

  /// Gives up ownership; the caller must close the returned fd.
  public consuming func take() -> Int32 {
    let fd = rawValue
    rawValue = -1
    return fd
  }

  /// An owner of nothing (rawValue -1): a slot that may be filled later.
  public static var none: FileDescriptor { FileDescriptor(adopting: -1) }

  public var isOpen: Bool { rawValue >= 0 }

  deinit { if rawValue >= 0 { _ = Glibc.close(rawValue) } }

  /// close(2) now (idempotent); the value then owns nothing. Never retried:
  /// Linux releases the fd even when close reports EINTR.
  public mutating func close() {
    if rawValue >= 0 { _ = Glibc.close(rawValue) }
    rawValue = -1
  }

  /// Adopts and closes raw fds (e.g. ones received by recvmsg and not wanted).
  public static func closeAll<S: Sequence>(_ raws: S) where S.Element == Int32 {
    for fd in raws where fd >= 0 { _ = Glibc.close(fd) }
  }

  /// Stops owning the fd without closing it (a fork child whose fd sweep
  /// already closed it, or that must keep it exactly as inherited).
  public mutating func relinquish() { rawValue = -1 }

  /// Replaces what this value owns, closing the old fd.
  public mutating func replace(with other: consuming FileDescriptor) {
    close()
    rawValue = other.take()
  }

  /// read(2); returns 0 at EOF.
  public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
    try retryingSyscall("read", context: "fd \(rawValue)") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
  }

  /// write(2) of the whole buffer (loops on short writes).
  public func writeAll(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
    var off = 0
    while off < bytes.count {
      let n = try retryingSyscall("write", context: "fd \(rawValue)") {
        Glibc.write(rawValue, bytes.baseAddress! + off, bytes.count - off)
      }
      off += n
    }
  }

  /// write(2) once; returns bytes written (may be short on a non-blocking fd).
  public func writeOnce(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int {
    try retryingSyscall("write", context: "fd \(rawValue)") { Glibc.write(rawValue, bytes.baseAddress, bytes.count) }
  }

  /// read(2) on a non-blocking fd: `.done(0)` at EOF, `.wouldBlock` on EAGAIN.
  @inline(__always)
  public func readNonBlocking(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
    try nonBlockingSyscall("read", context: "fd \(rawValue)") { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
  }

  /// recv(2) on a socket: `.done(0)` at EOF, `.wouldBlock` on EAGAIN.
  @inline(__always)
  public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
    try nonBlockingSyscall("recv", context: "fd \(rawValue)") { Glibc.recv(rawValue, buffer.baseAddress, buffer.count, 0) }
  }

  /// send(2) with MSG_NOSIGNAL (a closed peer is EPIPE, never SIGPIPE);
  /// returns bytes sent, possibly short, or `.wouldBlock` on EAGAIN.
  @inline(__always)
  public func send(_ bytes: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
    try nonBlockingSyscall("send", context: "fd \(rawValue)") {
      Glibc.send(rawValue, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
    }
  }

  /// fcntl(F_SETFL, O_NONBLOCK on/off)
  public func setNonBlocking(_ on: Bool = true) throws(SystemError) {
    let flags = try retryingSyscall("fcntl(F_GETFL)", context: "fd \(rawValue)") { fcntl(rawValue, F_GETFL) }
    let want = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
    if want != flags {
      _ = try retryingSyscall("fcntl(F_SETFL)", context: "fd \(rawValue)") { fcntl(rawValue, F_SETFL, want) }
    }
  }

  /// fcntl(F_SETFD, FD_CLOEXEC on/off)
  public func setCloseOnExec(_ on: Bool) throws(SystemError) {
    _ = try retryingSyscall("fcntl(F_SETFD)") { fcntl(rawValue, F_SETFD, on ? FD_CLOEXEC : 0) }
  }
}
