/// A server that serves one client at a time, blocked reading one client's
/// connection while others wait on it. One rule, seen three ways:
///  - (our actors, from probes) a spawn request (`spawn ENTER` never
///    returned) waits at the run's fork server, which is blocked in a read;
///  - this process is blocked in connect() to a listener that is not
///    accepting;
///  - (any tree, from kernel evidence) this process is the client K of a
///    server S: S holds a listening socket and is blocked reading the
///    accepted connection whose other end only K holds, 0 bytes queued,
///    while others wait on S (StalledServer). Without waiters it is not a
///    stall: a pair that each read first is MutualChannelRule's.
struct ForkServerStallRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    spawnRequest(ctx) ?? connect(ctx) ?? stalledServer(ctx)
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

  func stalledServer(_ ctx: TerminalContext) -> Classification? {
    guard let ev = ctx.evidence, let s = StalledServer.find(client: ctx.pid, ev) else { return nil }
    let v = ctx.verdict
    let doing = ctx.process?.syscall.map { "it is in \($0)" } ?? "its state \(ctx.process?.state ?? "?")"
    // "name pid", or "pid N" for a process the verdict has no name for (our fork server).
    func label(_ p: Int32) -> String { v.name(of: p) == "pid \(p)" ? "pid \(p)" : "\(v.name(of: p)) \(p)" }
    var waiting: [String] = s.waiters.map { "\(label($0.pid)) (\($0.how))" }
    if s.backlog > 0 { waiting.append("\(s.backlog) connection(s) pending in its listener backlog") }
    var evidence = [
      "kernel \(s.server): \(ev.processes[s.server]?.syscall ?? "-"), wchan \(ev.processes[s.server]?.wchan ?? "-"); "
        + "listener fd \(s.listener.fd) \(s.listener.link)\(s.listener.socketName.map { " (\($0))" } ?? ""), \(s.backlog) pending",
      "waiting on \(s.server): " + (waiting.isEmpty ? "none seen" : waiting.joined(separator: "; ")),
    ]
    for z in s.zombies { evidence.append("consequence: zombie \(z), not reaped by \(label(s.server)) while it is stuck") }
    return Classification(
      .forkserverStall,
      "\(label(s.server)) serves one client at a time: it is blocked in \(ev.processes[s.server]?.syscall ?? "a read") on the connection of \(ctx.name) \(ctx.pid), which holds it and sends nothing (\(doing)); \(s.waiterCount) wait(s) queue behind it",
      evidence: evidence)
  }
}

/// A server S stuck reading client K's connection, and who waits on S.
struct StalledServer {
  struct Waiter {
    var pid: Int32
    var how: String
  }
  var server: Int32
  var connection: FDEvidence
  var listener: FDEvidence
  /// Processes blocked on S: in connect() to it, or reading a pipe only S writes.
  var waiters: [Waiter]
  /// Pending connections in S's listening socket (sock_diag rqueue of a LISTEN socket).
  var backlog: Int
  /// S's children that exited and that S, stuck, has not reaped.
  var zombies: [Int32]

  var waiterCount: Int { waiters.count + backlog }

  static func find(client k: Int32, _ ev: Evidence) -> StalledServer? {
    for (sp, s) in ev.processes.sorted(by: { $0.key < $1.key }) where sp != k {
      guard SyscallGroups.reads.contains(s.syscallName ?? ""),
        let conn = s.waited.first(where: { $0.isSocket && !$0.listening && $0.peerInode != nil && $0.holders == [k] }),
        (conn.queued ?? 0) == 0,
        let listener = s.fds.first(where: { $0.listening })
      else { continue }
      var waiters: [Waiter] = []
      for e in ev.graph.edges where e.to == sp && e.from != k && !waiters.contains(where: { $0.pid == e.from }) {
        if e.kind == .acceptFrom {
          waiters.append(Waiter(pid: e.from, how: "in connect() to its listener"))
        } else if e.kind == .dataFrom, let w = ev.processes[e.from],
          // Any thread's wait (a helper thread's poll): the edge names the pipe.
          let pipe = w.fds.first(where: { $0.isPipe && $0.holders == [sp] && e.evidence.contains($0.link) })
        {
          waiters.append(Waiter(pid: e.from, how: "reads fd \(pipe.fd) \(pipe.link), a pipe only \(sp) writes"))
        }
      }
      let backlog = Int(listener.queued ?? 0)
      guard !waiters.isEmpty || backlog > 0 else { continue }
      let zombies = ev.processes.values.filter { $0.ppid == sp && $0.state == "Z" }.map(\.pid).sorted()
      return StalledServer(
        server: sp, connection: conn, listener: listener, waiters: waiters, backlog: backlog, zombies: zombies)
    }
    return nil
  }
}
