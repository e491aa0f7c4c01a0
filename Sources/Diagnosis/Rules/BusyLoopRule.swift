/// CPU used while the tree should be idle: at least half of the sample
/// window (two /proc samples 100 ms apart) on the CPU.
struct BusyLoopRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let pe = ctx.process, let d = pe.cpuTicksDelta, let s = pe.sampleMs, d * 10 >= s / 2 else { return nil }
    let spin = ctx.events.last.map { "after \($0.site) \($0.event)" } ?? ""
    return Classification(.busyLoop, "\(ctx.name) is spinning on the CPU (\(d * 10) ms of CPU in \(s) ms) \(spin) instead of waiting")
  }
}
