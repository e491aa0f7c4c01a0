import CSystem
import Glibc

/// Reads another process's memory without stopping it: process_vm_readv(2).
/// The kernel checks PTRACE_MODE_ATTACH_REALCREDS (Yama's ptrace_scope applies:
/// descendants, or CAP_SYS_PTRACE), but the target is never stopped or signalled.
public struct ProcessMemory: Sendable {
  public let pid: Int32

  public init(pid: Int32) { self.pid = pid }

  /// process_vm_readv(2) of `buffer.count` bytes at `address`. Returns the bytes
  /// read: short when the range runs into an unmapped page. Throws EFAULT when the
  /// first page is unmapped, EPERM without permission, ESRCH when the process is gone.
  public func read(_ address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
    try retryingSyscall("process_vm_readv", context: "pid \(pid)") {
      cs_process_vm_readv(pid, buffer.baseAddress, buffer.count, address)
    }
  }

  /// process_vm_readv(2) of `each` bytes at every address, in one call per 1024
  /// addresses (IOV_MAX). Returns the bytes per address, up to the first range that
  /// was not readable (the rest are missing from the result).
  public func gather(_ addresses: [UInt64], each: Int) throws(SystemError) -> [[UInt8]] {
    var out: [[UInt8]] = []
    var start = 0
    while start < addresses.count {
      let n = min(1024, addresses.count - start)
      var buf = [UInt8](repeating: 0, count: n * each)
      let got = try retryingSyscall("process_vm_readv", context: "pid \(pid)") {
        buf.withUnsafeMutableBytes { b in
          addresses.withUnsafeBufferPointer { a in cs_process_vm_gather(pid, b.baseAddress, a.baseAddress! + start, each, n) }
        }
      }
      let whole = got / each
      for i in 0..<whole { out.append(Array(buf[(i * each)..<((i + 1) * each)])) }
      if whole < n { break }
      start += n
    }
    return out
  }
}
