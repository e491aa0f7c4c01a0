import Glibc

/// Thin wrappers over the syscalls used to read /proc. Every call retries on EINTR;
/// every failure (ESRCH/ENOENT when a process vanishes, EACCES) becomes nil, because a
/// snapshot of a moving process tree must degrade, never throw.
enum ProcFS {
  @inline(__always)
  static func retrying<T: BinaryInteger>(_ op: () -> T) -> T {
    while true {
      let r = op()
      if r == -1 && errno == EINTR { continue }
      return r
    }
  }

  /// open(2) O_RDONLY|O_CLOEXEC.
  static func openRead(_ path: String) -> Int32? {
    let fd = retrying { open(path, O_RDONLY | O_CLOEXEC) }
    return fd < 0 ? nil : fd
  }

  /// close(2); never retried because Linux releases the fd even when close reports EINTR.
  static func closeFD(_ fd: Int32) { _ = close(fd) }

  /// Whole-file read(2) of a /proc file (they are generated per read call, so loop to EOF).
  static func read(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
    guard let fd = openRead(path) else { return nil }
    defer { closeFD(fd) }
    var out = [UInt8]()
    var buf = [UInt8](repeating: 0, count: 4096)
    while out.count < limit {
      let n = buf.withUnsafeMutableBytes { p in retrying { Glibc.read(fd, p.baseAddress, p.count) } }
      if n < 0 { return out.isEmpty ? nil : out }
      if n == 0 { break }
      out.append(contentsOf: buf[0..<n])
    }
    return out
  }

  static func readText(_ path: String) -> String? {
    guard let b = read(path) else { return nil }
    return String(decoding: b, as: UTF8.self)
  }

  /// readlink(2), e.g. /proc/PID/fd/N -> "socket:[123]".
  static func readLink(_ path: String) -> String? {
    var buf = [CChar](repeating: 0, count: 4097)
    let n = buf.withUnsafeMutableBufferPointer { p in retrying { readlink(path, p.baseAddress!, 4096) } }
    if n < 0 { return nil }
    let bytes = buf[0..<n].map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
  }

  /// opendir(3)/readdir(3) (getdents64 underneath); skips "." and "..".
  static func listDir(_ path: String) -> [String] {
    var dir: OpaquePointer?
    while true {
      dir = opendir(path)
      if dir == nil && errno == EINTR { continue }
      break
    }
    guard let d = dir else { return [] }
    defer { _ = closedir(d) }
    var names: [String] = []
    while let ent = readdir(d) {
      let name = withUnsafePointer(to: &ent.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name == "." || name == ".." { continue }
      names.append(name)
    }
    return names
  }

  static func listNumeric(_ path: String) -> [Int32] {
    listDir(path).compactMap { Int32($0) }
  }

  /// pread(2) on /proc/PID/mem at a user-space address (needs ptrace access; we run as root).
  static func readMemory(pid: Int32, address: UInt64, count: Int) -> [UInt8]? {
    guard count > 0, count <= 1 << 20, address > 0, address < UInt64(Int64.max) else { return nil }
    guard let fd = openRead("/proc/\(pid)/mem") else { return nil }
    defer { closeFD(fd) }
    var buf = [UInt8](repeating: 0, count: count)
    var got = 0
    while got < count {
      let n = buf.withUnsafeMutableBytes { p in
        retrying { pread(fd, p.baseAddress! + got, count - got, off_t(Int64(address) + Int64(got))) }
      }
      if n <= 0 { break }
      got += n
    }
    return got == count ? buf : nil
  }

  /// clock_gettime(2) CLOCK_MONOTONIC in nanoseconds.
  static func monotonicNs() -> UInt64 {
    var ts = timespec()
    _ = clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
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
