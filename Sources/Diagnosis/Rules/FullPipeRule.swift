/// Blocked writing to a pipe nobody reads (write(2), wchan pipe_write).
struct FullPipeRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let pe = ctx.process, pe.syscallName == "write" || pe.wchan == "pipe_write",
      pe.waited.contains(where: \.isPipe) || pe.wchan == "pipe_write"
    else { return nil }
    return Classification(
      .blockedOnFullPipe,
      "\(ctx.name) is blocked in write(2) on a full pipe: \(pe.syscall ?? "write"); nobody drains the reading end")
  }
}
