import KernelEvidence
import Probes

/// What each stuck process is blocked on, for people: its last probes and
/// open waits, its kernel state, its first kernel wait edge, its stack.
enum BlockedOnList {
  static func build(
    stuck: [Int32], byPid: [Int32: [ProbeEvent]], probeEdges: [ProbeWaitEdge], evidence: Evidence?, t0: UInt64
  ) -> [BlockedOn] {
    stuck.map { s in
      let evs = byPid[s] ?? []
      var probe = evs.suffix(3).map { "\($0.site) \($0.event)" + ($0.detail.map { " (\($0))" } ?? "") + " \(msText($0.t, t0))" }
        .joined(separator: ", ")
      if evs.isEmpty { probe = "no probe at all (never reached its first instruction of actor code)" }
      let openWaits = probeEdges.filter { $0.from == s && $0.open }
      if !openWaits.isEmpty {
        probe += "; waiting on " + openWaits.map { "\($0.site) of \($0.to)" }.joined(separator: ", ")
      }
      let pe = evidence?.processes[s]
      return BlockedOn(
        pid: s, probe: probe, kernel: pe.map(kernelText), stack: pe?.stack ?? [],
        edge: evidence.flatMap { edgeText(s, $0) }, python: evidence?.pythonBlocked(s))
    }
  }

  /// "S epoll_wait(...) wchan do_epoll_wait threads 1 cpu 0 ms in 100 ms".
  static func kernelText(_ pe: ProcessEvidence) -> String {
    var k = "\(pe.state) \(pe.syscall ?? "-")" + (pe.wchan.map { " wchan \($0)" } ?? "") + " threads \(pe.threads)"
    if let d = pe.cpuTicksDelta, let sm = pe.sampleMs { k += " cpu \(d * 10) ms in \(sm) ms" }
    return k
  }

  /// The first kernel wait edge leaving `pid`, or why the kernel saw none.
  /// The process's first kernel wait edge that is a real wait: an edge the
  /// cancel-listener rule explains (a child listening to a parent that
  /// waits for its exit) is not shown as what it is blocked on.
  static func edgeText(_ pid: Int32, _ ev: Evidence, listener: CancelListener = .none) -> String? {
    edgeText(pid, edge(pid, ev, listener: listener), ev)
  }

  /// The line for an edge already found (or the reason there is none).
  static func edgeText(_ pid: Int32, _ e: WaitEdge?, _ ev: Evidence) -> String? {
    e.map { "\($0.kind) \($0.to): \($0.evidence)" } ?? ev.unexplained[pid].map { "unexplained: \($0)" }
  }

  static func edge(_ pid: Int32, _ ev: Evidence, listener: CancelListener = .none) -> WaitEdge? {
    ev.graph.edges.first { $0.from == pid && !listener.explains($0) }
  }
}

/// Milliseconds since `t0`, rounded to 0.1, for people.
func msText(_ t: UInt64, _ t0: UInt64) -> String {
  "\(((Double(t &- t0) / 1e6) * 10).rounded() / 10) ms"
}
