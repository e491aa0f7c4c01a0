import Diagnosis
import KernelEvidence
import MiniJSON

/// The waiter's fd of a kernel wait edge, for labels (DOT edges, trace
/// wait states). WaitEdgeDerivation sets `WaitEdge.fd`, and evidence.json
/// keeps it as "fd"; run directories written before it was kept have only
/// the evidence text, which names the waiter's fd as "fd N" (for an epoll
/// or poll set, the watched fd: "watches fd N"; the epoll fd itself is
/// "epoll fd N"): that is read as the fallback. An exit wait by wait4 has no fd.
public enum WaitEdgeFD {
  public static func fd(_ e: WaitEdge) -> Int32? { e.fd ?? fd(evidence: e.evidence) }

  /// The same for an edge of a stored evidence.json.
  public static func fd(json e: JSONValue) -> Int32? {
    e["fd"]?.int.map { Int32($0) } ?? fd(evidence: e["evidence"]?.string ?? "")
  }

  public static func fd(evidence s: String) -> Int32? {
    if s.hasPrefix("probes ") { return nil }  // a probe edge (VerdictGraph): no fd
    let words = s.split(separator: " ", omittingEmptySubsequences: true)
    var fallback: Int32? = nil
    for i in words.indices.dropLast() where words[i] == "fd" {
      guard let n = Int32(words[i + 1].prefix(while: \.isNumber)) else { continue }
      let before = i > words.startIndex ? words[i - 1] : ""
      if before == "watches" { return n }
      if before == "epoll" || before.hasPrefix("(") { continue }
      if fallback == nil { fallback = n }
    }
    return fallback
  }
}
