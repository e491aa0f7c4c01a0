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

  public static func derive(_ byPid: [Int32: [ProbeEvent]]) -> [ProbeWaitEdge] {
    var edges: [ProbeWaitEdge] = []
    for (pid, events) in byPid {
      var open: [String: (UInt64, Int32)] = [:]  // site/peer -> since
      var forced: [Int32: String] = [:]
      var everWaited: [Int32: (String, UInt64)] = [:]
      for e in events {
        if e.site == "hard_kill", let p = e.peer { forced[p] = e.event }
        guard waitSites.contains(e.site), let peer = e.peer else { continue }
        let key = "\(e.site)/\(peer)"
        if e.event == "ENTER" {
          open[key] = (e.t, peer)
          if everWaited[peer] == nil { everWaited[peer] = (e.site, e.t) }
        } else {
          open[key] = nil
        }
      }
      var seen = Set<Int32>()
      for (key, (t, peer)) in open.sorted(by: { $0.value.0 < $1.value.0 }) where seen.insert(peer).inserted {
        let site = String(key.split(separator: "/").first ?? "")
        edges.append(ProbeWaitEdge(from: pid, to: peer, site: site, open: true, forced: forced[peer], sinceNs: t))
      }
      for (peer, how) in forced where !seen.contains(peer) {
        let w = everWaited[peer] ?? ("child_exit_wait", 0)
        edges.append(ProbeWaitEdge(from: pid, to: peer, site: w.0, open: false, forced: how, sinceNs: w.1))
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
