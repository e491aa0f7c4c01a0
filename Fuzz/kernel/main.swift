// KernelEvidence's parsers of kernel text and bytes. The first byte picks one:
// 0 /proc/PID/task/TID/syscall, 1 fdinfo (flags, Pid, epoll tfd lines),
// 2 a sock_diag AF_UNIX reply buffer, 3 a sock_diag TCP reply buffer,
// 4 a sun_path. Internal functions: built in debug (-enable-testing).
import CKernel
import FuzzSupport
@testable import KernelEvidence

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let all = fuzzBytes(data, size)
  guard let selector = all.first else { return 0 }
  let bytes = Array(all.dropFirst())
  let text = String(decoding: bytes, as: UTF8.self)
  switch selector % 5 {
  case 0:
    if let sc = SyscallInfo.parse(text) { _ = (sc.name, sc.int32Arg(0), ProcessReader.isEpollWait(sc.number)) }
  case 1:
    _ = (ProcessReader.accessMode(text), ProcessReader.fdInfoPid(text))
    _ = (ProcessReader.epollTargets(text), ProcessReader.epollWriteOnlyTargets(text))
  case 2:
    var raw: UnsafeMutablePointer<ck_unix_sock>?
    let n = bytes.withUnsafeBytes { ck_unix_diag_parse($0.baseAddress, $0.count, &raw) }
    defer { ck_free(raw) }
    if n > 0, let raw {
      var table = SocketTable()
      table.addUnix(UnsafeBufferPointer(start: raw, count: Int(n)))
    }
  case 3:
    var raw: UnsafeMutablePointer<ck_inet_sock>?
    let n = bytes.withUnsafeBytes { ck_tcp_diag_parse($0.baseAddress, $0.count, &raw) }
    defer { ck_free(raw) }
    if n > 0, let raw {
      var table = SocketTable()
      table.addTCP(SocketTable.tcpSockets(UnsafeBufferPointer(start: raw, count: Int(n))))
    }
  default:
    _ = SocketTable.decodeName(bytes)
  }
  return 0
}

runFuzzer(fuzz)
