/// Someone sent this actor a cancel request (`cancel_actor ENTER` with it as
/// peer) but its cancel path (`cancel ENTER`) never ran.
struct CancelNotDeliveredRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard ctx.writesProbes, !ctx.has("cancel", "ENTER") else { return nil }
    let seen = ctx.seenAtNs
    let asked = ctx.verdict.actors.contains { a in
      (ctx.byPid[a.pid] ?? []).contains {
        $0.site == "cancel_actor" && $0.peer == ctx.pid && $0.event == "ENTER" && (seen == nil || $0.t <= seen!)
      }
    }
    guard asked else { return nil }
    let dropped = ctx.events.contains { $0.site == "msg_loop" && $0.event == "DROPPED" }
    return Classification(
      .cancelNotDelivered,
      "\(ctx.name) was sent a cancel request but its cancel path never ran" + (dropped ? " (the message loop dropped it)" : ""))
  }
}

/// The cancel path ran (`cancel ENTER`) and the process did not exit, and
/// either the cancel never returned or a behaviour task (`behavior ENTER`)
/// never ended: no `behavior RETURN` or `CANCELLED` (nor `RAISE` or
/// `CRASH`, which end it too: a task that raised is not waiting).
struct UncancellableTaskRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard ctx.has("cancel", "ENTER"), !(ctx.actor?.reachedExit ?? false) else { return nil }
    let behaviour = ctx.events.filter { $0.site == "behavior" }
    let taskOpen = behaviour.contains { $0.event == "ENTER" } && !behaviour.contains { BehaviourEnd.events.contains($0.event) }
    let cancelOpen = !ctx.has("cancel", "RETURN")
    guard cancelOpen || taskOpen else { return nil }
    // Say which wait is open: the behaviour task when one is, else the
    // cancel path itself (a task that returned is not the one waiting).
    let open = taskOpen
      ? behaviour.last { $0.event == "ENTER" }.map { ": \($0.site) ENTER never ended" } ?? ""
      : ": its cancel path (cancel ENTER) never returned"
    return Classification(
      .uncancellableTask, "\(ctx.name) got its cancel request (cancel ENTER) but a task kept waiting" + open)
  }
}

/// The probe events that end a behaviour task.
enum BehaviourEnd {
  static let events: Set<String> = ["RETURN", "CANCELLED", "RAISE", "CRASH"]
}
