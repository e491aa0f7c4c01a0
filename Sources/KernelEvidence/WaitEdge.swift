/// `from` is blocked until `to` acts; `evidence` names the /proc file, fd and inode it came from.
public struct WaitEdge: Sendable, Hashable {
  public var from: Int32
  public var to: Int32
  public var kind: WaitKind
  public var evidence: String

  public init(from: Int32, to: Int32, kind: WaitKind, evidence: String) {
    self.from = from
    self.to = to
    self.kind = kind
    self.evidence = evidence
  }
}
