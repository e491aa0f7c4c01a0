/// A (pid, fd) pair found by scanning /proc/*/fd.
public struct FDHolder: Sendable, Hashable {
  public var pid: Int32
  public var fd: Int32
  public init(pid: Int32, fd: Int32) {
    self.pid = pid
    self.fd = fd
  }
}
