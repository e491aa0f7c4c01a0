import CSystem
import Glibc

/// AF_UNIX SOCK_SEQPACKET sockets in the abstract namespace (no file on
/// disk), and messages that carry fds (SCM_RIGHTS). Used by the fork server.
public enum UnixSockets {
  /// Socket address for an abstract name (leading NUL).
  static func address(_ name: String) -> (sockaddr_un, socklen_t) {
    var a = sockaddr_un()
    a.sun_family = sa_family_t(AF_UNIX)
    let bytes = [UInt8](name.utf8.prefix(100))
    withUnsafeMutableBytes(of: &a.sun_path) { p in
      p[0] = 0
      for (i, b) in bytes.enumerated() { p[i + 1] = b }
    }
    return (a, socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count))
  }

  /// socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK)
  public static func seqpacket() throws(SystemError) -> FileDescriptor {
    let type = Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
    return FileDescriptor(adopting: try retryingSyscall("socket(AF_UNIX)") { socket(AF_UNIX, type, 0) })
  }

  /// socket + bind(2) to `@name` + listen(2): a non-blocking listener.
  public static func listen(abstract name: String, backlog: Int32 = 128) throws(SystemError) -> FileDescriptor {
    let fd = try seqpacket()
    var (addr, len) = address(name)
    _ = try retryingSyscall("bind", context: "@\(name)") {
      withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd.rawValue, $0, len) } }
    }
    _ = try retryingSyscall("listen", context: "@\(name)") { Glibc.listen(fd.rawValue, backlog) }
    return fd
  }

  /// connect(2) of a non-blocking socket to `@name`: `.wouldBlock` when the
  /// listener's backlog is full (EAGAIN) or the connect is in progress.
  public static func connect(_ fd: borrowing FileDescriptor, abstract name: String) throws(SystemError) -> IOResult<Void> {
    var (addr, len) = address(name)
    let raw = fd.rawValue
    let r = try nonBlockingSyscall("connect", context: "@\(name)") { () -> Int32 in
      let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(raw, $0, len) } }
      if rc != 0 && Glibc.errno == EINPROGRESS { Glibc.errno = EAGAIN }
      return rc
    }
    return r.value == nil ? .wouldBlock : .done(())
  }

  /// accept4(SOCK_CLOEXEC | SOCK_NONBLOCK); nil when no client waits (would block).
  public static func accept(_ listener: borrowing FileDescriptor) throws(SystemError) -> FileDescriptor? {
    let raw = listener.rawValue
    guard let fd = try nonBlockingSyscall("accept4", context: "fd \(raw)", { cs_accept_nonblocking(raw) }).value else {
      return nil
    }
    return FileDescriptor(adopting: fd)
  }

  /// sendmsg(2) (MSG_NOSIGNAL) of `bytes` with `fds` as SCM_RIGHTS (the fds
  /// stay ours: the kernel gives the receiver copies).
  public static func send(_ sock: borrowing FileDescriptor, _ bytes: [UInt8], fds: [Int32]) throws(SystemError) -> IOResult<Int> {
    let raw = sock.rawValue
    var fds = fds
    return try nonBlockingSyscall("sendmsg", context: "fd \(raw)") {
      bytes.withUnsafeBytes { b in cs_send_with_fds(raw, b.baseAddress, b.count, &fds, Int32(fds.count)) }
    }
  }

  /// recvmsg(2) with MSG_CMSG_CLOEXEC of one datagram of up to `capacity`
  /// bytes and `maxFDs` fds. `.done` with empty bytes and no fds means EOF.
  /// The received fds are the caller's to adopt (or close).
  public static func receive(_ sock: borrowing FileDescriptor, capacity: Int, maxFDs: Int) throws(SystemError)
    -> IOResult<(bytes: [UInt8], fds: [Int32])>
  {
    let raw = sock.rawValue
    var buf = [UInt8](repeating: 0, count: capacity)
    var fds = [Int32](repeating: -1, count: maxFDs)
    var nfds: Int32 = 0
    let r = try nonBlockingSyscall("recvmsg", context: "fd \(raw)") {
      cs_recv_with_fds(raw, &buf, capacity, &fds, Int32(maxFDs), &nfds)
    }
    guard case .done(let n) = r else { return .wouldBlock }
    return .done((Array(buf[0..<n]), Array(fds[0..<Int(max(0, nfds))])))
  }
}
