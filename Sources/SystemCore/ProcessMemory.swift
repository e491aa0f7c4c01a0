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
}
