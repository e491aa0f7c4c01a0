import KernelEvidence

/// A pure timed sleep: nanosleep, clock_nanosleep, poll/select with no fds,
/// or a futex wait, each with a finite timeout under trio's 24 h cap. It
/// wakes by itself. An event loop with a finite timer is InProcessWaitRule's
/// ("next timer in N s"): which task that timer wakes cannot be told from
/// outside.
struct SleepingRule: HangRule {
  static let sleeps: Set<String> = ["nanosleep", "clock_nanosleep", "futex"]
  static let emptyPolls: Set<String> = ["poll", "ppoll", "select", "pselect6"]

  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let pe = ctx.process, !pe.isZombie, let ms = pe.timeout?.finiteMs else { return nil }
    let sc = ctx.syscallName
    guard Self.sleeps.contains(sc) || (Self.emptyPolls.contains(sc) && pe.waitFDs.isEmpty) else { return nil }
    return Classification(
      .sleeping, "\(ctx.name) is in a timed sleep (\(pe.syscall ?? sc)): it will wake by itself within \(ms) ms",
      evidence: ["timeout \(ctx.pid): \(ms) ms, read from the call's arguments"])
  }
}
