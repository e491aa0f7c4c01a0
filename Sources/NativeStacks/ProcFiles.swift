import Glibc  // strerror
import SystemCore

/// Small /proc readers, through SystemCore's one file reader and stat parser.
enum ProcFiles {
  /// Whole file as text, nil when unreadable.
  static func read(_ path: String) -> String? {
    Syscalls.readFile(path).map { String(decoding: $0, as: UTF8.self) }
  }

  /// Whole file with errno on failure.
  static func readResult(_ path: String) -> (text: String?, errno: Int32) {
    do throws(SystemError) {
      return (String(decoding: try Syscalls.readWholeFile(path), as: UTF8.self), 0)
    } catch {
      return (nil, error.errno)
    }
  }

  static func trimmed(_ s: String?) -> String? {
    guard var s else { return nil }
    while let last = s.last, last == "\n" || last == " " || last == "\0" { s.removeLast() }
    return s
  }

  /// Thread ids of /proc/PID/task, sorted, or the errno of opendir.
  static func tasks(_ pid: Int32) -> Result<[Int32], Errno> {
    do throws(SystemError) {
      return .success(try Syscalls.directoryEntries("/proc/\(pid)/task").compactMap { Int32($0) }.sorted())
    } catch {
      return .failure(Errno(code: error.errno))
    }
  }

  /// State letter from /proc/PID/task/TID/stat ("S", "R", "D", ...).
  static func state(pid: Int32, tid: Int32) -> String? {
    ProcStat.read(pid: pid, tid: tid).map { String($0.state) }
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
    guard let bytes = Syscalls.readFile("/proc/\(pid)/maps") else { return [] }
    return parseMaps(bytes)
  }

  /// "start-end perms offset dev inode   path" lines, read as bytes: splitting the
  /// text as Swift Strings (grapheme by grapheme) was 12% of a whole
  /// `snapshot --tree` of 6 Python processes (~350 lines each), more than the
  /// symbol lookups it serves.
  static func parseMaps(_ bytes: [UInt8]) -> [Mapping] {
    var out: [Mapping] = []
    bytes.withUnsafeBufferPointer { b in
      let n = b.count
      var i = 0
      func hex(_ stop: UInt8) -> UInt64? {
        var v: UInt64 = 0
        var digits = 0
        while i < n, b[i] != stop, b[i] != 10 {
          let c = b[i]
          let d: UInt64
          switch c {
          case 48...57: d = UInt64(c - 48)
          case 97...102: d = UInt64(c - 87)
          case 65...70: d = UInt64(c - 55)
          default: return nil
          }
          v = v &<< 4 | d
          digits += 1
          i += 1
        }
        guard i < n, b[i] == stop, digits > 0 else { return nil }
        i += 1
        return v
      }
      func skipField() {
        while i < n, b[i] != 32, b[i] != 10 { i += 1 }
        while i < n, b[i] == 32 { i += 1 }
      }
      while i < n {
        let lineStart = i
        var lineEnd = i
        while lineEnd < n, b[lineEnd] != 10 { lineEnd += 1 }
        defer { i = lineEnd + 1 }
        guard let s = hex(45), let e = hex(32) else { continue }  // '-', ' '
        let permStart = i
        while i < lineEnd, b[i] != 32 { i += 1 }
        let perms = Substring(String(decoding: UnsafeBufferPointer(rebasing: b[permStart..<i]), as: UTF8.self))
        while i < lineEnd, b[i] == 32 { i += 1 }
        guard let off = hex(32) else { continue }
        skipField()  // dev
        skipField()  // inode and the spaces before the path
        var pathEnd = lineEnd
        while pathEnd > i, b[pathEnd - 1] == 32 || b[pathEnd - 1] == 9 { pathEnd -= 1 }
        guard i < pathEnd, i > lineStart else { continue }
        let path = String(decoding: UnsafeBufferPointer(rebasing: b[i..<pathEnd]), as: UTF8.self)
        out.append(Mapping(start: s, end: e, offset: off, perms: perms, path: path))
      }
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
