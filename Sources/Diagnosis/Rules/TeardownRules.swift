/// Teardown done (`actor_main RETURN`) but no `process EXIT`: the process
/// never called _exit.
struct ExitNotReachedRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard ctx.has("actor_main", "RETURN"), !(ctx.actor?.reachedExit ?? false) else { return nil }
    return Classification(.exitNotReached, "\(ctx.name) finished its teardown but never called _exit")
  }
}

/// Peers gone (`wait_for_no_more_peers RETURN`) but the parent-channel loop
/// (`msg_loop ENTER`) never ended: the cancel path forgot the shielded loop.
struct ParentChannelNotCancelledRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard ctx.has("wait_for_no_more_peers", "RETURN"), ctx.has("msg_loop", "ENTER"),
      !ctx.events.contains(where: { $0.site == "msg_loop" && $0.event != "ENTER" })
    else { return nil }
    return Classification(
      .parentChannelNotCancelled,
      "\(ctx.name) finished its teardown waits but its shielded parent-channel loop is still running: the cancel path never cancelled it"
    )
  }
}
