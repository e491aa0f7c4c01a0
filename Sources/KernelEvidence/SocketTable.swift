import CKernel
import Glibc

/// One socket from a sock_diag dump: AF_UNIX, or TCP over IPv4/IPv6.
struct KernelSocket: Sendable {
  var inode: UInt64
  /// Inode of the other end when it is on this machine (0 if none or unknown).
  var peer: UInt64
  var state: UInt8
  var rqueue: UInt32?
  var wqueue: UInt32?
  /// Unix: the bound name ("@x" for abstract names). TCP: "tcp LOCAL -> REMOTE".
  var name: String?
  var isTCP = false

  /// TCP_LISTEN; sock_diag reports AF_UNIX states with the TCP numbers too.
  static let listenState: UInt8 = 10
  var isListener: Bool { state == KernelSocket.listenState }
}

/// Every AF_UNIX and TCP socket on the machine, from NETLINK_SOCK_DIAG dumps
/// (ck_unix_diag_dump and ck_tcp_diag_dump in CKernel.c). TCP has no peer
/// inode in the kernel's answer: two sockets are peers when each one's local
/// address and port are the other's remote ones, so a connection between two
/// processes of this machine resolves like a socketpair.
struct SocketTable: Sendable {
  var byInode: [UInt64: KernelSocket] = [:]
  /// Listening Unix sockets by bound name: how a blocked connect(2) finds its listener.
  var listenersByName: [String: [UInt64]] = [:]
  /// Non-zero when the Unix dump failed (TCP failures only lose TCP peers).
  var error: Int32 = 0

  /// Unix sockets only; `addTCP()` adds TCP when a process holds a socket
  /// that is not a Unix one (two more dumps most snapshots do not need).
  static func dump() -> SocketTable {
    var table = SocketTable()
    table.addUnix()
    return table
  }

  mutating func addTCP() {
    // Both families together: an IPv6 socket talking to an IPv4 one shows
    // its addresses v4-mapped, which endpoint() prints as IPv4.
    addTCP(SocketTable.tcpSockets(family: AF_INET) + SocketTable.tcpSockets(family: AF_INET6))
  }

  private mutating func addUnix() {
    var raw: UnsafeMutablePointer<ck_unix_sock>?
    // 500 ms per recv is generous; a dump of thousands of sockets takes a few ms.
    let n = ck_unix_diag_dump(&raw, 500)
    defer { ck_free(raw) }
    guard n >= 0, let base = raw else {
      error = Int32(truncatingIfNeeded: -n)
      return
    }
    addUnix(UnsafeBufferPointer(start: base, count: Int(n)))
  }

  /// Records of a Unix dump (or of ck_unix_diag_parse, for the fuzzer).
  mutating func addUnix(_ records: UnsafeBufferPointer<ck_unix_sock>) {
    for c in records {
      var s = KernelSocket(inode: UInt64(c.ino), peer: UInt64(c.peer), state: c.state)
      if c.has_rqlen != 0 {
        s.rqueue = c.rqueue
        s.wqueue = c.wqueue
      }
      if c.name_len > 0 {
        s.name = withUnsafeBytes(of: c.name) { raw in
          SocketTable.decodeName(Array(raw.prefix(Int(c.name_len))))
        }
      }
      byInode[s.inode] = s
      if s.isListener, let name = s.name {
        listenersByName[name, default: []].append(s.inode)
      }
    }
  }

  /// A TCP socket with its two ends as text.
  struct TCPEnds {
    var socket: KernelSocket
    var local: String
    var remote: String
  }

  private static func tcpSockets(family: Int32) -> [TCPEnds] {
    var raw: UnsafeMutablePointer<ck_inet_sock>?
    let n = ck_tcp_diag_dump(family, &raw, 500)
    defer { ck_free(raw) }
    guard n > 0, let base = raw else { return [] }
    return tcpSockets(UnsafeBufferPointer(start: base, count: Int(n)))
  }

  /// Records of a TCP dump (or of ck_tcp_diag_parse, for the fuzzer).
  static func tcpSockets(_ records: UnsafeBufferPointer<ck_inet_sock>) -> [TCPEnds] {
    var out: [TCPEnds] = []
    for c in records {
      guard c.ino != 0 else { continue }  // TIME_WAIT and the like: no process holds them
      let local = endpoint(family: c.family, addr: c.src, port: c.sport)
      let remote = endpoint(family: c.family, addr: c.dst, port: c.dport)
      var s = KernelSocket(inode: UInt64(c.ino), peer: 0, state: c.state, rqueue: c.rqueue, wqueue: c.wqueue, isTCP: true)
      s.name = s.isListener ? "tcp \(local) (listening)" : "tcp \(local) -> \(remote)"
      out.append(TCPEnds(socket: s, local: local, remote: remote))
    }
    return out
  }

  mutating func addTCP(_ sockets: [TCPEnds]) {
    var byEnds: [String: UInt64] = [:]
    for t in sockets where !t.socket.isListener { byEnds[t.local + "|" + t.remote] = t.socket.inode }
    for var t in sockets {
      if !t.socket.isListener, let p = byEnds[t.remote + "|" + t.local] { t.socket.peer = p }
      byInode[t.socket.inode] = t.socket
    }
  }

  /// "127.0.0.1:5000" or "[::1]:5000"; v4-mapped IPv6 addresses print as IPv4.
  static func endpoint(family: UInt8, addr: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8), port: UInt16) -> String {
    let b = withUnsafeBytes(of: addr) { Array($0) }
    if Int32(family) == AF_INET { return "\(b[0]).\(b[1]).\(b[2]).\(b[3]):\(port)" }
    if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff {
      return "\(b[12]).\(b[13]).\(b[14]).\(b[15]):\(port)"
    }
    var groups: [String] = []
    for i in stride(from: 0, to: 16, by: 2) { groups.append(String(UInt16(b[i]) << 8 | UInt16(b[i + 1]), radix: 16)) }
    return "[\(groups.joined(separator: ":"))]:\(port)"
  }

  /// sun_path bytes -> "path" or "@abstract" (leading NUL); pathnames stop at the first NUL.
  static func decodeName(_ bytes: [UInt8]) -> String? {
    guard let first = bytes.first else { return nil }
    if first == 0 {
      return "@" + String(decoding: bytes.dropFirst(), as: UTF8.self)
    }
    let path = bytes.prefix { $0 != 0 }
    return String(decoding: path, as: UTF8.self)
  }
}
