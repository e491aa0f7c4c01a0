/// Part of a wait cycle (the verdict's cycles are already free of what the
/// cancel-listener rule explains away).
struct WaitCycleRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let cyc = ctx.verdict.cycles.first(where: { $0.contains(ctx.pid) }) else { return nil }
    return Classification(
      .waitCycle, "\(ctx.name) is part of a wait cycle " + cyc.map(String.init).joined(separator: " → ") + " → \(cyc[0])")
  }
}
