import KernelEvidence

/// Two processes blocked reading the two ends of ONE channel (a socket pair
/// or a TCP connection), nothing queued either way, neither waiting for the
/// other's exit: each expects the other to speak first. Two pipes in
/// opposite directions are not one channel (that stays a wait-cycle); a
/// parent that waits for the child's exit, or a child the cancel-listener
/// rule explains, is the cancel-listener case; a server with others queued
/// behind it is ForkServerStallRule's (tried first).
struct MutualChannelRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let ev = ctx.evidence, let m = MutualChannel.find(ctx.pid, ev),
      // A child listening to its parent (our actors' parent-channel loop)
      // is the cancel-listener case, either way round.
      !ctx.listener.explains(WaitEdge(from: ctx.pid, to: m.peer, kind: .dataFrom, evidence: "")),
      !ctx.listener.explains(WaitEdge(from: m.peer, to: ctx.pid, kind: .dataFrom, evidence: ""))
    else { return nil }
    let v = ctx.verdict
    let what = m.mine.socketName?.hasPrefix("tcp") == true ? "one TCP connection" : "one socket pair"
    return Classification(
      .mutualChannelWait,
      "\(ctx.name) \(ctx.pid) and \(v.name(of: m.peer)) \(m.peer) hold the two ends of \(what) and each is blocked reading it, with nothing queued either way: each expects the other to speak first",
      evidence: [
        "end \(ctx.pid): \(m.endText(m.mine)), \(ev.processes[ctx.pid]?.syscall ?? "-")",
        "end \(m.peer): \(m.endText(m.theirs)), \(ev.processes[m.peer]?.syscall ?? "-")",
      ])
  }
}

/// The two ends of a channel on which both holders wait to read.
struct MutualChannel {
  var peer: Int32
  var mine: FDEvidence
  var theirs: FDEvidence

  func endText(_ f: FDEvidence) -> String {
    "fd \(f.fd) \(f.link)" + (f.socketName.map { " (\($0))" } ?? "") + ", \(f.queued ?? 0) bytes queued"
  }

  /// `pid` blocked reading (or polling) a connected socket whose other end
  /// only `peer` holds, `peer` blocked reading that other end whose only
  /// other holder is `pid`, 0 bytes queued both ways, no exit wait between them.
  static func find(_ pid: Int32, _ ev: Evidence) -> MutualChannel? {
    guard let me = ev.processes[pid], SyscallGroups.readsOrPolls.contains(me.syscallName ?? "") else { return nil }
    for f in me.waited where f.isSocket && !f.listening && (f.queued ?? 0) == 0 {
      guard let peerInode = f.peerInode, f.holders.count == 1, let peer = f.holders.first, peer != pid,
        let other = ev.processes[peer], SyscallGroups.readsOrPolls.contains(other.syscallName ?? ""),
        let g = other.waited.first(where: { $0.link == "socket:[\(peerInode)]" }),
        (g.queued ?? 0) == 0, g.holders == [pid],
        !ev.graph.edges.contains(where: { $0.kind == .exitOf && Set([$0.from, $0.to]) == Set([pid, peer]) })
      else { continue }
      return MutualChannel(peer: peer, mine: f, theirs: g)
    }
    return nil
  }
}
