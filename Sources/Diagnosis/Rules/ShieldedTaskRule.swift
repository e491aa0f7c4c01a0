/// A Python task under a shielded cancel scope after cancel was called on it
/// (trio's task tree, read from outside): the cancel cannot reach it until the
/// shielded wait ends by itself, and the process cannot finish before it. Works
/// without probes, so foreign trees under `watch` get it too. The task's lines
/// (frames, what it waits on) are in the common Python evidence, which lists
/// such a task first.
struct ShieldedTaskRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let py = ctx.python, let t = py.allTasks.first(where: \.isUncancellable) else { return nil }
    let at = PythonEvidenceText.ownFrame(t.frames).map { " in " + PythonEvidenceText.frame($0) } ?? ""
    return Classification(
      .uncancellableTask,
      "\(ctx.name) has a \(py.loop?.rawValue ?? "Python") task \(t.name) waiting\(at) under a shielded cancel scope"
        + " after cancel was called on it: the cancel cannot reach it")
  }
}
