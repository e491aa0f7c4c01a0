/// Still making progress when sampled (Progress.Activity.working): CPU used
/// and its state moved. Not a bug of its own: the tree was at work at the
/// deadline (Evidence.atWorkNote).
struct WorkingRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let p = ctx.process?.progress, p.activity == .working else { return nil }
    return Classification(
      .working, "\(ctx.name) was still at work at the deadline (\(p.text)): it may finish given more time",
      evidence: [Evidence.atWorkNote])
  }
}
