import SystemCore

/// A mapping line of /proc/PID/maps with a file behind it.
struct FileMapping: Sendable {
  var start: UInt64
  var offset: UInt64
  /// "dev:inode" of the file: the same binary in every process of a tree.
  var file: String
  var path: String

  /// The offset-0 mappings of the executable (the first line) and of libpython, in
  /// address order; nil when maps cannot be read. Parsed as bytes: a Python
  /// process has ~100-300 lines and a String per line cost more than the read.
  static func read(pid: Int32) -> [FileMapping]? {
    Syscalls.readFile("/proc/\(pid)/maps").map(parse)
  }

  /// The mappings `read(pid:)` keeps, from the text of /proc/PID/maps.
  static func parse(_ bytes: [UInt8]) -> [FileMapping] {
    var out: [FileMapping] = []
    let lib = Array("libpython".utf8)
    bytes.withUnsafeBufferPointer { b in
      var lineStart = 0
      while lineStart < b.count {
        var end = lineStart
        while end < b.count && b[end] != 10 { end += 1 }
        defer { lineStart = end + 1 }
        // "start-end perms offset dev inode   path": path starts at the first '/'.
        guard let slash = (lineStart..<end).first(where: { b[$0] == 47 }) else { continue }
        var nameStart = end
        while nameStart > slash && b[nameStart - 1] != 47 { nameStart -= 1 }
        let isLib = end - nameStart >= lib.count && (0..<lib.count).allSatisfy { b[nameStart + $0] == lib[$0] }
        guard out.isEmpty || isLib else { continue }
        var i = lineStart
        func hex() -> UInt64 {
          var v: UInt64 = 0
          while i < end, let d = hexDigit(b[i]) { v = v << 4 | d; i += 1 }
          return v
        }
        let start = hex()
        while i < end && b[i] != 32 { i += 1 }  // "-end"
        i += 1
        while i < end && b[i] != 32 { i += 1 }  // perms
        i += 1
        let offset = hex()
        guard offset == 0 else { continue }
        i += 1
        let devStart = i
        while i < end && b[i] != 32 { i += 1 }
        let dev = String(decoding: UnsafeBufferPointer(rebasing: b[devStart..<i]), as: UTF8.self)
        i += 1
        var inode: UInt64 = 0
        while i < end, b[i] >= 48, b[i] <= 57 { inode = inode * 10 + UInt64(b[i] - 48); i += 1 }
        var pathEnd = end
        while pathEnd > slash && b[pathEnd - 1] == 32 { pathEnd -= 1 }
        out.append(FileMapping(start: start, offset: 0, file: "\(dev):\(inode)", path: String(decoding: UnsafeBufferPointer(rebasing: b[slash..<pathEnd]), as: UTF8.self)))
      }
    }
    return out
  }

  static func hexDigit(_ c: UInt8) -> UInt64? {
    switch c {
    case 48...57: return UInt64(c - 48)
    case 97...102: return UInt64(c - 87)
    default: return nil
    }
  }
}

extension String {
  /// The last path component.
  var baseName: String { split(separator: "/").last.map(String.init) ?? self }
}
