/// Blocked on a child's exit in a way cancel cannot interrupt: wait4/waitid,
/// poll() on a pidfd, or any kernel exit-wait outside an epoll loop.
struct UncancellableChildWaitRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let pe = ctx.process else { return nil }
    let sc = ctx.syscallName
    let blocking =
      sc == "wait4" || sc == "waitid" || pe.wchan == "do_wait"
      || ((sc == "poll" || sc == "ppoll") && pe.waited.contains(where: \.isPidfd))
      || (!sc.hasPrefix("epoll") && ctx.edgesOut.contains { $0.kind == .exitOf })
    guard blocking else { return nil }
    return Classification(
      .uncancellableChildWait, "\(ctx.name) is blocked in \(pe.syscall ?? "wait4") on a child's exit; cancel cannot interrupt it")
  }
}
