import SystemCore

/// Why a read of the target failed. `gone` and `denied` end a capture at once;
/// `unmapped` and `inconsistent` (a running target moved under us) are retried.
enum ReadFailure: Error {
  case gone
  case denied
  case unmapped(UInt64)
  case inconsistent(String)
}

/// The target's memory seen through a page cache: one process_vm_readv per 4 KiB
/// page touched, not one per field. A 2-thread stack touches ~20 pages where a
/// read per field takes ~200 syscalls (brief: 3-6 ms naive). The cache lives for one
/// attempt, so a retry sees fresh memory.
final class RemoteMemory {
  let memory: ProcessMemory
  private var pages: [UInt64: [UInt8]] = [:]
  private(set) var syscalls = 0
  static let pageSize: UInt64 = 4096
  /// A bound on what one capture may read (a corrupt length must not make us read GBs).
  static let maxPages = 4096

  init(pid: Int32) { memory = ProcessMemory(pid: pid) }

  func reset() { pages.removeAll(keepingCapacity: true) }

  private func page(_ base: UInt64) throws(ReadFailure) -> [UInt8] {
    if let p = pages[base] { return p }
    guard pages.count < RemoteMemory.maxPages else { throw .inconsistent("read more than \(RemoteMemory.maxPages) pages") }
    var buf = [UInt8](repeating: 0, count: Int(RemoteMemory.pageSize))
    syscalls += 1
    var failure: SystemError? = nil
    let n = buf.withUnsafeMutableBytes { b -> Int in
      do throws(SystemError) { return try memory.read(base, into: b) } catch {
        failure = error
        return -1
      }
    }
    if let error = failure {
      switch error.errno {
      case 3: throw .gone  // ESRCH
      case 1: throw .denied  // EPERM
      default: throw .unmapped(base)
      }
    }
    guard n == buf.count else { throw .unmapped(base) }
    pages[base] = buf
    return buf
  }

  /// `count` bytes at `address` (bounded by the caller).
  func bytes(_ address: UInt64, _ count: Int) throws(ReadFailure) -> [UInt8] {
    guard address >= RemoteMemory.pageSize, count >= 0 else { throw .unmapped(address) }
    var out: [UInt8] = []
    out.reserveCapacity(count)
    var a = address
    var left = count
    while left > 0 {
      let base = a & ~(RemoteMemory.pageSize - 1)
      let p = try page(base)
      let off = Int(a - base)
      let n = min(left, p.count - off)
      out.append(contentsOf: p[off..<(off + n)])
      a += UInt64(n)
      left -= n
    }
    return out
  }

  func u64(_ address: UInt64) throws(ReadFailure) -> UInt64 {
    let off = address & (RemoteMemory.pageSize - 1)
    if off <= RemoteMemory.pageSize - 8, address >= RemoteMemory.pageSize {
      let p = try page(address - off)
      var v: UInt64 = 0
      for i in 0..<8 { v |= UInt64(p[Int(off) + i]) << (8 * UInt64(i)) }
      return v
    }
    let b = try bytes(address, 8)
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(b[i]) << (8 * UInt64(i)) }
    return v
  }

  func i64(_ address: UInt64) throws(ReadFailure) -> Int64 { Int64(bitPattern: try u64(address)) }

  func u32(_ address: UInt64) throws(ReadFailure) -> UInt32 {
    let b = try bytes(address, 4)
    return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
  }

  func i32(_ address: UInt64) throws(ReadFailure) -> Int32 { Int32(bitPattern: try u32(address)) }

  func u16(_ address: UInt64) throws(ReadFailure) -> UInt16 {
    let b = try bytes(address, 2)
    return UInt16(b[0]) | UInt16(b[1]) << 8
  }

  func u8(_ address: UInt64) throws(ReadFailure) -> UInt8 { try bytes(address, 1)[0] }

  func i8(_ address: UInt64) throws(ReadFailure) -> Int8 { Int8(bitPattern: try u8(address)) }

  /// A NUL-terminated C string of at most `limit` bytes.
  func cString(_ address: UInt64, limit: Int = 256) throws(ReadFailure) -> String {
    var out: [UInt8] = []
    var a = address
    while out.count < limit {
      let base = a & ~(RemoteMemory.pageSize - 1)
      let p = try page(base)
      var off = Int(a - base)
      while off < p.count && out.count < limit {
        if p[off] == 0 { return String(decoding: out, as: UTF8.self) }
        out.append(p[off])
        off += 1
      }
      a = base + RemoteMemory.pageSize
    }
    return String(decoding: out, as: UTF8.self)
  }
}
