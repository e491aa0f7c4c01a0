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

  deinit { if rawValue >= 0 { _ = Glibc.close(rawValue) } }

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

  /// fcntl(F_SETFL, O_NONBLOCK)
  public func setNonBlocking() throws(SystemError) {
    let flags = try retryingSyscall("fcntl(F_GETFL)") { fcntl(rawValue, F_GETFL) }
    _ = try retryingSyscall("fcntl(F_SETFL)") { fcntl(rawValue, F_SETFL, flags | O_NONBLOCK) }
  }

  /// fcntl(F_SETFD, FD_CLOEXEC on/off)
  public func setCloseOnExec(_ on: Bool) throws(SystemError) {
    _ = try retryingSyscall("fcntl(F_SETFD)") { fcntl(rawValue, F_SETFD, on ? FD_CLOEXEC : 0) }
  }
}
