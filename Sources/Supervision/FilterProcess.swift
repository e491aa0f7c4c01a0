import Glibc
import SystemCore

/// A child used as a filter: our input on its stdin, its stdout read back,
/// stderr to /dev/null, everything bounded by one deadline (llvm-symbolizer
/// for `snapshot --symbolize`). The child is always reaped: once its output
/// ends it gets 500 ms to exit, on a timeout it is killed at once.
public enum FilterProcess {
  public struct Output: Sendable {
    /// Exit status; nil if it had to be killed and could not be reaped in time.
    public var status: WaitStatus?
    public var output: [UInt8]
    public var timedOut: Bool
  }

  public static func run(executable: String, arguments: [String], input: [UInt8], timeoutMs: Int) throws(SystemError) -> Output {
    let deadline = Syscalls.monotonicNs() + UInt64(timeoutMs) * 1_000_000
    let inPipe = try Syscalls.pipe()
    var toChild: FileDescriptor? = inPipe.second
    let outPipe = try Syscalls.pipe()
    let fromChild = outPipe.first
    var child: OwnedChild
    do {
      let childIn = inPipe.first
      let childOut = outPipe.second
      let devNull = try Syscalls.open("/dev/null", O_WRONLY)
      child = try ChildLauncher.launch(
        LaunchSpec(
          executable: executable, arguments: arguments,
          fds: [.parent(childIn.rawValue), .parent(childOut.rawValue), .parent(devNull.rawValue)]))
    }  // our copies of the child's ends close here: EOF reaches us when it exits
    try toChild?.setNonBlocking()
    try fromChild.setNonBlocking()
    let (output, late) = ProcessControl.withSIGPIPEHeld {
      pump(input, into: &toChild, from: fromChild, deadline: deadline)
    }
    // Its output ended: it has 500 ms to exit; late or lingering, it is killed.
    if !late, case .exited(let s) = child.wait(untilNs: Syscalls.monotonicNs() + 500_000_000) {
      return Output(status: s, output: output, timedOut: false)
    }
    return Output(status: child.tearDown(.kill(reapBoundMs: 2000)), output: output, timedOut: true)
  }

  /// Writes `input` and reads until EOF, with poll(2), until `deadline`.
  /// Returns what was read and whether the deadline passed first.
  private static func pump(
    _ input: [UInt8], into w: inout FileDescriptor?, from reader: borrowing FileDescriptor, deadline: UInt64
  ) -> ([UInt8], Bool) {
    if input.isEmpty { w = nil }  // closing it is the child's EOF
    var written = 0
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
      let now = Syscalls.monotonicNs()
      if now >= deadline { return (out, true) }
      var fds: [(fd: Int32, events: Int16)] = [(reader.rawValue, Int16(POLLIN))]
      if let fd = w?.rawValue { fds.append((fd, Int16(POLLOUT))) }
      let rev = ProcessControl.poll(fds, timeoutMs: Int32((deadline - now) / 1_000_000 + 1))
      if rev.count > 1 && rev[1] != 0 {
        let r: Result<Int, SystemError>? = input.withUnsafeBytes { b in
          do throws(SystemError) {
            let n = try w?.writeOnce(UnsafeRawBufferPointer(rebasing: b[written...]))
            return n.map { .success($0) }
          } catch { return .failure(error) }
        }
        switch r {
        case .success(let n)?: written += n
        case .failure(let e)?: if e.errno != EAGAIN { written = input.count }  // EPIPE: the child is gone
        case nil: break
        }
        if written >= input.count { w = nil }
      }
      if rev[0] != 0 {
        let n: Int? = chunk.withUnsafeMutableBytes { b in
          do throws(SystemError) { return try reader.read(into: b) } catch { return error.errno == EAGAIN ? -1 : nil }
        }
        guard let n else { return (out, false) }  // a read error ends the output
        if n == 0 { return (out, false) }
        if n > 0 { out.append(contentsOf: chunk[0..<n]) }
      }
    }
  }
}
