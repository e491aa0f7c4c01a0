/// Still making progress when sampled (Progress.Activity.working): CPU used
/// and its state moved. Not a bug of its own: the tree was at work at the
/// deadline (Evidence.atWorkNote).
struct WorkingRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let p = ctx.process?.progress, p.activity == .working else { return nil }
    // Our own actor listening to a parent that waits for it wakes on its
    // timers: the parent's state is the story (the classifier walks up).
    if ctx.writesProbes && !ctx.edgesOut.isEmpty { return nil }
    return Classification(
      .working, "\(ctx.name) was still at work at the deadline (\(p.text)): it may finish given more time",
      evidence: [Evidence.atWorkNote])
  }
}
