import CKernel

/// One AF_UNIX socket from the sock_diag dump.
struct UnixSocket: Sendable {
  var inode: UInt64
  var peer: UInt64
  var state: UInt8
  var rqueue: UInt32?
  var wqueue: UInt32?
  /// Bound name; abstract names are shown with a leading "@".
  var name: String?

  static let listenState: UInt8 = 10
  var isListener: Bool { state == UnixSocket.listenState }
}

/// Every AF_UNIX socket on the machine, from one NETLINK_SOCK_DIAG dump
/// (ck_unix_diag_dump in CKernel.c).
struct UnixSocketTable: Sendable {
  var byInode: [UInt64: UnixSocket] = [:]
  /// Listening sockets by bound name: how a blocked connect(2) finds its listener.
  var listenersByName: [String: [UInt64]] = [:]
  var error: Int32 = 0

  static func dump() -> UnixSocketTable {
    var table = UnixSocketTable()
    var raw: UnsafeMutablePointer<ck_unix_sock>?
    // 500 ms per recv is generous; a dump of thousands of sockets takes a few ms.
    let n = ck_unix_diag_dump(&raw, 500)
    defer { ck_free(raw) }
    guard n >= 0, let base = raw else {
      table.error = Int32(truncatingIfNeeded: -n)
      return table
    }
    for i in 0..<Int(n) {
      let c = base[i]
      var s = UnixSocket(inode: UInt64(c.ino), peer: UInt64(c.peer), state: c.state)
      if c.has_rqlen != 0 {
        s.rqueue = c.rqueue
        s.wqueue = c.wqueue
      }
      if c.name_len > 0 {
        s.name = withUnsafeBytes(of: c.name) { raw in
          UnixSocketTable.decodeName(Array(raw.prefix(Int(c.name_len))))
        }
      }
      table.byInode[s.inode] = s
      if s.isListener, let name = s.name {
        table.listenersByName[name, default: []].append(s.inode)
      }
    }
    return table
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
