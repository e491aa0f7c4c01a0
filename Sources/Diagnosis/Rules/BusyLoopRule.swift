/// Spinning while the tree should be idle: across the sample window it was
/// runnable (on a CPU or waiting for one) at least half of every interval,
/// used CPU, and nothing else about it moved (Progress.Activity.spinning).
/// Evidence stored before progress sampling has one CPU sample: at least
/// half of the window on the CPU.
struct BusyLoopRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let pe = ctx.process else { return nil }
    let spin = ctx.events.last.map { "after \($0.site) \($0.event) " } ?? ""
    if let p = pe.progress {
      guard p.activity == .spinning else { return nil }
      return Classification(
        .busyLoop, "\(ctx.name) is spinning on the CPU \(spin)instead of waiting: \(p.text), nothing else moved")
    }
    guard let d = pe.cpuTicksDelta, let s = pe.sampleMs, d * 10 >= s / 2 else { return nil }
    return Classification(.busyLoop, "\(ctx.name) is spinning on the CPU (\(d * 10) ms of CPU in \(s) ms) \(spin)instead of waiting")
  }
}
