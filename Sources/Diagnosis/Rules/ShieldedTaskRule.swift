import PythonStacks

/// A Python task under a shielded cancel scope after cancel was called on it
/// (trio's task tree, read from outside): the cancel cannot reach it until the
/// shielded wait ends by itself, and the process cannot finish before it. Works
/// without probes, so foreign trees under `watch` get it too. The task's lines
/// (frames, what it waits on) are in the common Python evidence, which lists
/// such a task first.
///
/// A process whose kernel wait is for the exit of such a process (a parent
/// waiting on its pidfd or with wait4) is stuck for the same reason: it gets
/// the class too, naming the process and task it waits for, before any rule
/// reads its other fds (tractor's root holds both ends of its own arbiter
/// connection, which is no cause).
struct ShieldedTaskRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    if let py = ctx.python, let t = Self.uncancellable(py) {
      return Classification(
        .uncancellableTask,
        "\(ctx.name) has a \(py.loop?.rawValue ?? "Python") task \(t.name) waiting\(Self.at(t)) under a shielded cancel scope"
          + " after cancel was called on it: the cancel cannot reach it")
    }
    for e in ctx.edgesOut where e.kind == .exitOf {
      guard let py = ctx.evidence?.python[e.to], let t = Self.uncancellable(py) else { continue }
      let name = ctx.verdict.name(of: e.to)
      return Classification(
        .uncancellableTask,
        "\(ctx.name) waits for the exit of \(name) \(e.to), whose task \(t.name) waits\(Self.at(t)) under a shielded"
          + " cancel scope after cancel was called on it",
        evidence: ["python \(e.to): " + t.summary(frames: 4)])
    }
    return nil
  }

  static func uncancellable(_ py: PythonSnapshot) -> PythonTask? { py.allTasks.first(where: \.isUncancellable) }

  static func at(_ t: PythonTask) -> String {
    PythonEvidenceText.ownFrame(t.frames).map { " in " + PythonEvidenceText.frame($0) } ?? ""
  }
}
