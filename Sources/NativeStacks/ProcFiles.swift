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
