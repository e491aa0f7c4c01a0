/// A server that serves one client at a time, blocked reading one client's
/// connection while others wait on it. Seen three ways:
///  - a spawn request (`spawn ENTER` never returned) waits at the run's fork
///    server, which is blocked in a read;
///  - this process is blocked in connect() to a listener that is not
///    accepting;
///  - (any tree) this chain holds a process waiting in connect() on a server
///    that is blocked reading from a process of this chain.
struct ForkServerStallRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    spawnRequest(ctx) ?? connect(ctx) ?? serverInChain(ctx)
  }

  func spawnRequest(_ ctx: TerminalContext) -> Classification? {
    guard let fs = ctx.verdict.forkServerPid, let spe = ctx.evidence?.processes[fs],
      SyscallGroups.reads.contains(spe.syscallName ?? ""),
      let sp = ctx.events.last(where: { $0.site == "spawn" }), sp.event == "ENTER"
    else { return nil }
    let held = ctx.evidence?.graph.edges(from: fs).first.map { "held by \(ctx.verdict.name(of: $0.to)) \($0.to)" } ?? "held by a client"
    return Classification(
      .forkserverStall,
      "\(ctx.name)'s spawn request (\(sp.detail ?? "a child")) waits at the fork server \(fs), which is blocked in \(spe.syscall ?? "recvmsg") on one client's connection (\(held)) and serves no one else",
      evidence: ["kernel \(fs) (fork server): \(spe.syscall ?? "-"), wchan \(spe.wchan ?? "-")"])
  }

  func connect(_ ctx: TerminalContext) -> Classification? {
    guard let pe = ctx.process, pe.syscallName == "connect" || pe.wchan == "unix_wait_for_peer" else { return nil }
    let server = ctx.edgesOut.first { $0.kind == .acceptFrom }.map { "\($0.to)" } ?? "the listener"
    return Classification(
      .forkserverStall, "\(ctx.name) is blocked in connect() to \(server), which is not accepting: it is busy with one client")
  }

  func serverInChain(_ ctx: TerminalContext) -> Classification? {
    guard let ev = ctx.evidence, let chain = ctx.chain,
      let accept = ev.graph.edges.first(where: { $0.kind == .acceptFrom && chain.contains($0.from) && chain.contains($0.to) }),
      let server = ev.processes[accept.to], SyscallGroups.reads.contains(server.syscallName ?? ""),
      ev.graph.edges(from: accept.to).contains(where: { $0.kind == .dataFrom && chain.contains($0.to) })
    else { return nil }
    let v = ctx.verdict
    return Classification(
      .forkserverStall,
      "\(v.name(of: accept.to)) \(accept.to) serves one client at a time: it is blocked in \(server.syscall ?? "recv") on the connection of \(ctx.name) \(ctx.pid), which holds it and sends nothing, while \(v.name(of: accept.from)) \(accept.from) waits in connect()",
      evidence: [
        "edge \(accept.from) \(accept.kind) \(accept.to): \(accept.evidence)",
        "kernel \(accept.to): \(server.syscall ?? "-"), wchan \(server.wchan ?? "-")",
      ])
  }
}
