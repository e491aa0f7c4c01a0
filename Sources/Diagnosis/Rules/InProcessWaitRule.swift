import KernelEvidence

/// Blocked, no progress, and everything it waits on is internal: its own
/// wake-up channels, listening sockets nobody connects to, the channel to a
/// parent that waits for its exit (the cancel listener), or a futex in a
/// process with one thread. Nothing outside the process can wake it: a task
/// inside it waits on something only the process itself can set (an
/// asyncio/trio Event, a shielded scope, a threading.Event nobody sets).
struct InProcessWaitRule: HangRule {
  static let readiness: Set<String> = ["epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll", "select", "pselect6"]

  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let pe = ctx.process, !pe.isZombie, pe.state != "R" else { return nil }
    if let a = pe.progress?.activity, a == .working || a == .spinning { return nil }
    // Any wait on another process that is a real wait makes this someone else's story.
    guard ctx.edgesOut.allSatisfy({ ctx.listener.explains($0) }) else { return nil }
    // Our own actors listening to a parent that waits for them: the parent's
    // state is the story (the classifier walks up the chain to it).
    if ctx.writesProbes && !ctx.edgesOut.isEmpty { return nil }
    let sc = ctx.syscallName
    let timer = Self.timerText(pe.timeout)
    if sc == "futex", pe.threads == 1, pe.timeout?.finiteMs == nil {
      return Classification(
        .inProcessWait,
        "\(ctx.name) is blocked in futex with a single thread: a lock or condition only its own threads could release, and it has no other thread, so nothing will wake it (\(timer))",
        evidence: ["in-process wait \(ctx.pid): futex, 1 thread, \(timer)"])
    }
    guard Self.readiness.contains(sc) else { return nil }
    let parentEdges = ctx.edgesOut.filter { ctx.listener.explains($0) }.map(\.to)
    var inside: [String] = []
    for f in pe.waited where !f.link.contains("eventpoll") {
      if f.wakeup {
        inside.append("fd \(f.fd) \(f.link): its own wake-up channel")
      } else if f.listening {
        inside.append("fd \(f.fd) \(f.link): a listening socket no client connects to")
      } else if (f.isSocket || f.isPipe), !f.holders.isEmpty,
        f.holders.allSatisfy({ $0 == ctx.pid || parentEdges.contains($0) })
      {
        inside.append("fd \(f.fd) \(f.link): channel to \(f.holders.filter { $0 != ctx.pid }.map(String.init).joined(separator: ", ")), which waits for its exit")
      } else {
        return nil  // something outside could speak on this fd
      }
    }
    let watched = inside.isEmpty ? "nothing" : inside.joined(separator: "; ")
    return Classification(
      .inProcessWait,
      "\(ctx.name) waits in \(sc) on nothing outside itself (\(timer)): a task waits on something only this process can set",
      evidence: ["in-process wait \(ctx.pid): watches \(watched)"])
  }

  /// "next timer in <= 3600 s", "no timer" (infinite, or trio's 24 h cap).
  static func timerText(_ t: Timeout?) -> String {
    guard let t else { return "timer unknown" }
    if let ms = t.finiteMs { return "next timer in <= \(ms >= 10_000 ? "\(ms / 1000) s" : "\(ms) ms")" }
    if case .after = t { return "no timer (timeout is trio's 24 h cap)" }
    return "no timer"
  }
}
