import CUnwind
import Glibc

/// Small /proc readers. All file I/O goes through cu_read_file (open/read
/// with EINTR retry) so nothing here can block on a regular /proc file.
enum ProcFiles {
  /// Whole file as text (open/read/close), nil when unreadable.
  static func read(_ path: String) -> String? {
    var len = 0
    var err: Int32 = 0
    guard let p = cu_read_file(path, &len, &err) else { return nil }
    defer { cu_free(p) }
    return String(cString: p)
  }

  /// Whole file with errno on failure.
  static func readResult(_ path: String) -> (text: String?, errno: Int32) {
    var len = 0
    var err: Int32 = 0
    guard let p = cu_read_file(path, &len, &err) else { return (nil, err) }
    defer { cu_free(p) }
    return (String(cString: p), 0)
  }

  static func trimmed(_ s: String?) -> String? {
    guard var s else { return nil }
    while let last = s.last, last == "\n" || last == " " || last == "\0" { s.removeLast() }
    return s
  }

  /// Thread ids of /proc/PID/task (opendir/readdir), or -errno.
  static func tasks(_ pid: Int32) -> Result<[Int32], Errno> {
    var cap: Int32 = 256
    while true {
      var buf = [Int32](repeating: 0, count: Int(cap))
      let n = buf.withUnsafeMutableBufferPointer { cu_list_tasks(pid, $0.baseAddress, cap) }
      if n < 0 { return .failure(Errno(code: -n)) }
      if n <= cap { return .success(Array(buf[0..<Int(n)]).sorted()) }
      cap = n + 64
    }
  }

  /// State letter from /proc/PID/task/TID/stat ("S", "R", "D", ...). The comm
  /// field may contain ')' and spaces, so parse after the LAST ')'.
  static func state(pid: Int32, tid: Int32) -> String? {
    guard let s = read("/proc/\(pid)/task/\(tid)/stat") else { return nil }
    guard let close = s.lastIndex(of: ")") else { return nil }
    let rest = s[s.index(after: close)...].drop(while: { $0 == " " })
    return rest.first.map { String($0) }
  }

  /// TracerPid from /proc/PID/task/TID/status (0 when not traced).
  static func tracerPid(pid: Int32, tid: Int32) -> Int32? {
    guard let s = read("/proc/\(pid)/task/\(tid)/status") else { return nil }
    for line in s.split(separator: "\n") where line.hasPrefix("TracerPid:") {
      return Int32(line.dropFirst("TracerPid:".count).trimmingSpaces())
    }
    return nil
  }

  struct Mapping {
    var start: UInt64
    var end: UInt64
    var offset: UInt64
    var perms: Substring
    var path: String
  }

  /// /proc/PID/maps parsed; only mappings with a name are kept.
  static func maps(_ pid: Int32) -> [Mapping] {
    guard let text = read("/proc/\(pid)/maps") else { return [] }
    var out: [Mapping] = []
    for line in text.split(separator: "\n") {
      // start-end perms offset dev inode   path
      var fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
      guard fields.count >= 5 else { continue }
      let range = fields[0].split(separator: "-")
      guard range.count == 2, let s = UInt64(range[0], radix: 16), let e = UInt64(range[1], radix: 16),
        let off = UInt64(fields[2], radix: 16)
      else { continue }
      let path = fields.count == 6 ? String(fields[5].trimmingSpaces()) : ""
      if path.isEmpty { continue }
      fields.removeAll()
      out.append(Mapping(start: s, end: e, offset: off, perms: line.split(separator: " ")[1], path: path))
    }
    return out
  }
}

/// errno value as a Swift error / description (strerror).
struct Errno: Error, Sendable, CustomStringConvertible {
  var code: Int32
  var description: String {
    guard let p = strerror(code) else { return "errno \(code)" }
    return String(cString: p)
  }
}

extension Substring {
  func trimmingSpaces() -> Substring {
    var s = self
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\n" { s.removeLast() }
    return s
  }
}
