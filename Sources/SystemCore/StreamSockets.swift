import Glibc

/// AF_UNIX SOCK_STREAM sockets bound to a path (watch's control socket),
/// with every read and write bounded by a deadline on CLOCK_MONOTONIC.
public enum StreamSockets {
  /// mkdtemp(3) under $TMPDIR (or /tmp): a new directory only we can enter (0700).
  public static func makePrivateDirectory(prefix: String) throws(SystemError) -> String {
    let base = (getenv("TMPDIR").map { String(cString: $0) }).flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    var template = Array((base + "/" + prefix + "XXXXXX").utf8CString)
    let ok = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) != nil }
    guard ok else { throw SystemError("mkdtemp", errno: Glibc.errno, context: base) }
    return String(cString: template)
  }

  /// socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK) + bind(2) to
  /// `path` + chmod(2) 0600 + listen(2): a non-blocking listener.
  public static func listen(path: String, backlog: Int32 = 16) throws(SystemError) -> FileDescriptor {
    var a = sockaddr_un()
    a.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: a.sun_path) else {
      throw SystemError("bind", errno: ENAMETOOLONG, context: path)
    }
    withUnsafeMutableBytes(of: &a.sun_path) { p in for (i, b) in bytes.enumerated() { p[i] = b } }
    let len = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
    let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    let fd = FileDescriptor(adopting: try retryingSyscall("socket(AF_UNIX, SOCK_STREAM)") { socket(AF_UNIX, type, 0) })
    _ = try retryingSyscall("bind", context: path) {
      withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd.rawValue, $0, len) } }
    }
    _ = try retryingSyscall("chmod", context: path) { chmod(path, 0o600) }
    _ = try retryingSyscall("listen", context: path) { Glibc.listen(fd.rawValue, backlog) }
    return fd
  }

  /// poll(2) of the listener and `wake` for up to `timeoutMs`, then accept4(2)
  /// (non-blocking, close-on-exec). nil when nobody connected in time or
  /// `wake` became readable.
  public static func accept(_ listener: borrowing FileDescriptor, wake: Int32, timeoutMs: Int32) -> FileDescriptor? {
    let r = ProcessControl.poll([(listener.rawValue, Int16(POLLIN)), (wake, Int16(POLLIN))], timeoutMs: timeoutMs)
    guard r[1] == 0, r[0] != 0 else { return nil }
    return try? UnixSockets.accept(listener)
  }

  /// recv(2) until a newline, EOF, `limit` bytes or the deadline: the bytes
  /// before the newline; nil when no complete line came in time.
  public static func readLine(_ fd: borrowing FileDescriptor, limit: Int, deadlineNs: UInt64) throws(SystemError) -> [UInt8]? {
    var line: [UInt8] = []
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
    defer { buf.deallocate() }
    while line.count < limit {
      let now = Syscalls.monotonicNs()
      guard now < deadlineNs else { return nil }
      switch try fd.receive(into: buf) {
      case .wouldBlock:
        _ = ProcessControl.poll([(fd.rawValue, Int16(POLLIN))], timeoutMs: Int32(min(1000, (deadlineNs - now) / 1_000_000 + 1)))
      case .done(0):
        return line.isEmpty ? nil : line
      case .done(let n):
        if let nl = buf[0..<n].firstIndex(of: UInt8(ascii: "\n")) { return line + buf[0..<nl] }
        line += buf[0..<n]
      }
    }
    return nil
  }

  /// send(2) (MSG_NOSIGNAL) of all of `bytes`, waiting for room with poll(2)
  /// until the deadline; false when the peer is gone or the time ran out.
  @discardableResult
  public static func sendAll(_ fd: borrowing FileDescriptor, _ bytes: [UInt8], deadlineNs: UInt64) -> Bool {
    var off = 0
    while off < bytes.count {
      let now = Syscalls.monotonicNs()
      guard now < deadlineNs else { return false }
      let r = bytes[off...].withUnsafeBytes { b in try? fd.send(b) }
      switch r {
      case .some(.done(let n)): off += n
      case .some(.wouldBlock):
        _ = ProcessControl.poll([(fd.rawValue, Int16(POLLOUT))], timeoutMs: Int32(min(1000, (deadlineNs - now) / 1_000_000 + 1)))
      case .none: return false
      }
    }
    return true
  }
}
