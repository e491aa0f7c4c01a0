import Probes

/// Wait-for edges derived from probe events: P waits on C when P entered a
/// wait on C (connect-back, join, cancel ack, exit) and never left it, or
/// left it only because it had to hard-kill C.
public struct ProbeWaitEdge: Sendable, Hashable {
  public var from: Int32
  public var to: Int32
  public var site: String
  public var open: Bool  // never returned
  public var forced: String?  // "SIGTERM"/"SIGKILL" if the wait ended by a kill
  public var sinceNs: UInt64
}

public enum ProbeWaitEdges {
  /// Sites whose ENTER (with a peer) starts a wait on that peer.
  public static let waitSites: Set<String> = ["connect_back", "portal", "cancel_actor", "child_exit_wait"]

  /// Edges from the wait intervals (`intervals(byPid)`, passed in when the
  /// caller has them already) and the hard kills each process recorded.
  public static func derive(_ byPid: [Int32: [ProbeEvent]], intervals known: [WaitInterval]? = nil) -> [ProbeWaitEdge] {
    let all = known ?? intervals(byPid)
    var edges: [ProbeWaitEdge] = []
    for (pid, events) in byPid {
      var forced: [Int32: String] = [:]
      for e in events where e.site == "hard_kill" {
        if let p = e.peer { forced[p] = e.event }
      }
      let mine = all.filter { $0.from == pid }.sorted { $0.start < $1.start }
      var seen = Set<Int32>()
      for w in mine where w.end == nil && seen.insert(w.to).inserted {
        edges.append(ProbeWaitEdge(from: pid, to: w.to, site: w.site, open: true, forced: forced[w.to], sinceNs: w.start))
      }
      for (peer, how) in forced where !seen.contains(peer) {
        let first = mine.first { $0.to == peer }
        edges.append(
          ProbeWaitEdge(
            from: pid, to: peer, site: first?.site ?? "child_exit_wait", open: false, forced: how, sinceNs: first?.start ?? 0))
      }
    }
    return edges.sorted { ($0.from, $0.to) < ($1.from, $1.to) }
  }
}

/// A wait of one process on another, with when it started and ended.
public struct WaitInterval: Sendable {
  public var from: Int32
  public var to: Int32
  public var site: String
  public var start: UInt64
  public var end: UInt64?  // nil: never ended
}

extension ProbeWaitEdges {
  /// Every wait interval on a peer (connect-back, join, cancel ack, exit).
  public static func intervals(_ byPid: [Int32: [ProbeEvent]]) -> [WaitInterval] {
    var out: [WaitInterval] = []
    for (pid, events) in byPid {
      var open: [String: Int] = [:]
      for e in events {
        guard waitSites.contains(e.site), let peer = e.peer else { continue }
        let key = "\(e.site)/\(peer)"
        if e.event == "ENTER" {
          open[key] = out.count
          out.append(WaitInterval(from: pid, to: peer, site: e.site, start: e.t, end: nil))
        } else if let i = open[key] {
          out[i].end = e.t
          open[key] = nil
        }
      }
    }
    return out
  }
}
