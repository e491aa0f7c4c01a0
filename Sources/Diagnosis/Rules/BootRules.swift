/// A child with no probe at all whose parent forked it from a process with
/// several threads (the parent's `fork FORK` probe: `threads=N`).
struct ForkFromMultithreadedParentRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard ctx.writesProbes, ctx.events.isEmpty else { return nil }
    let forks = ctx.parentEvents.filter { $0.site == "fork" && $0.event == "FORK" }
    guard let f = forks.last(where: { ProbeDetail.fork($0.detail)?.child == ctx.name }) ?? forks.last,
      let fork = ProbeDetail.fork(f.detail), fork.threads > 1
    else { return nil }
    return Classification(
      .forkFromMultithreadedParent,
      "\(ctx.name) was forked from a process with \(fork.threads) threads and never reached its first probe",
      evidence: ["parent probe: fork FORK (\(f.detail ?? "")) \(ctx.ms(f.t))"])
  }
}

/// A child with no probe at all that died (or is a zombie) while its parent
/// waits for the connect-back. One the kernel saw alive at the snapshot did
/// not die: it had not written its first probe yet (a start slowed down by
/// load), whatever status the tree kill gave it afterwards; the kernel rules
/// say what it was doing.
struct DiedDuringBootRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard ctx.writesProbes, ctx.events.isEmpty else { return nil }
    let actor = ctx.actor
    let pe = ctx.process
    if let pe, !pe.isZombie { return nil }
    let cb = ctx.parentEvents.last { $0.site == "connect_back" && $0.peer == ctx.pid }
    guard cb?.event == "ENTER" || pe?.state == "Z" || actor?.exitStatus != nil else { return nil }
    var extra: [String] = []
    if let c = cb, let pp = actor?.parentPid {
      extra.append("probes \(pp): connect_back \(c.event) on \(ctx.pid) \(ctx.ms(c.t))\(c.event == "ENTER" ? ", never returned" : "")")
    }
    let end = actor?.exitStatus.map { "ended with \($0)" } ?? pe.map { "state \($0.state)" } ?? "gone"
    extra.append("\(ctx.pid): no probe at all; " + end)
    return Classification(
      .diedDuringBoot,
      "\(ctx.name) died during boot (\(actor?.exitStatus ?? pe.map { "state \($0.state)" } ?? "gone")) and its parent still waits for the connect-back",
      evidence: extra)
  }
}
