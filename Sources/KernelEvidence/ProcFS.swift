import SystemCore

/// /proc reads for a snapshot, through SystemCore (EINTR retried there). Every
/// failure (ESRCH/ENOENT when a process vanishes, EACCES) becomes nil, because a
/// snapshot of a moving process tree must degrade, never throw.
enum ProcFS {
  /// Whole file, up to 1 MiB (a /proc file is generated per read call).
  static func read(_ path: String, limit: Int = 1 << 20) -> [UInt8]? { Syscalls.readFile(path, limit: limit) }

  static func readText(_ path: String) -> String? {
    guard let b = read(path) else { return nil }
    return String(decoding: b, as: UTF8.self)
  }

  /// readlink(2), e.g. /proc/PID/fd/N -> "socket:[123]".
  static func readLink(_ path: String) -> String? { Syscalls.readLink(path) }

  /// Directory entries, "." and ".." skipped.
  static func listDir(_ path: String) -> [String] { Syscalls.listDirectory(path) }

  static func listNumeric(_ path: String) -> [Int32] {
    listDir(path).compactMap { Int32($0) }
  }

  /// pread(2) on /proc/PID/mem at a user-space address (needs ptrace access; we run as root).
  static func readMemory(pid: Int32, address: UInt64, count: Int) -> [UInt8]? {
    guard count > 0, count <= 1 << 20, address > 0 else { return nil }
    return Syscalls.readExactly("/proc/\(pid)/mem", offset: address, count: count)
  }

  /// Splits on ASCII whitespace without Foundation.
  static func fields<S: StringProtocol>(_ s: S) -> [Substring] {
    String(s).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
  }

  /// Parses "pipe:[123]" style links: returns 123 when `link` starts with `prefix`.
  static func bracketInode(_ link: String, prefix: String) -> UInt64? {
    guard link.hasPrefix(prefix), link.hasSuffix("]") else { return nil }
    let inner = link.dropFirst(prefix.count).dropLast()
    return UInt64(inner)
  }

  static func parseHex(_ s: Substring) -> UInt64? {
    let t = s.hasPrefix("0x") ? s.dropFirst(2) : s
    return UInt64(t, radix: 16)
  }
}
