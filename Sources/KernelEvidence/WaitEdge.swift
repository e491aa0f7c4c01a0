/// `from` is blocked until `to` acts; `evidence` names the /proc file, fd and inode it came from.
public struct WaitEdge: Sendable, Hashable {
  public var from: Int32
  public var to: Int32
  public var kind: WaitKind
  public var evidence: String
  /// The fd of `from` the wait goes through (a pipe, socket, pidfd; the
  /// socket a connect(2) is on); nil for wait4/waitid on pids. Samples
  /// (watch --sample) record it as data, so nobody parses `evidence`.
  public var fd: Int32?

  public init(from: Int32, to: Int32, kind: WaitKind, evidence: String, fd: Int32? = nil) {
    self.from = from
    self.to = to
    self.kind = kind
    self.evidence = evidence
    self.fd = fd
  }
}
