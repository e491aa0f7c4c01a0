/// One way of naming the cause of a terminal process. A rule looks at the
/// terminal's context and either names a class (with the explanation and any
/// evidence lines of its own) or passes. Rules are tried in order
/// (`HangRules.ordered`); the first that names a class wins. A new rule is a
/// new type in Rules/ and one line in that list, and gets its first test in
/// DiagnosisTests.
public protocol HangRule: Sendable {
  func classify(_ ctx: TerminalContext) -> Classification?
}

/// What a rule found: the class (its hint comes from the class), why, and
/// evidence lines shown before the common ones (probes, kernel, edge, stack).
public struct Classification: Sendable {
  public var hangClass: HangClass
  public var explanation: String
  public var evidence: [String]

  public init(_ hangClass: HangClass, _ explanation: String, evidence: [String] = []) {
    self.hangClass = hangClass
    self.explanation = explanation
    self.evidence = evidence
  }
}

public enum HangRules {
  /// Most specific first. Kernel facts that explain a hang by themselves
  /// (a leaked fd, a full pipe, a cycle, a busy CPU, a stalled server) come
  /// before probe sequences, which come before the catch-all.
  public static let ordered: [any HangRule] = [
    // Python task tree (issue 11): before the generic in-process / unexplained rules.
    ShieldedTaskRule(),
    PeerWaitInTeardownRule(),
    ForkServerStallRule(),
    MutualChannelRule(),
    LeakedFDRule(),
    FullPipeRule(),
    WaitCycleRule(),
    BusyLoopRule(),
    ForkFromMultithreadedParentRule(),
    DiedDuringBootRule(),
    ExitNotReachedRule(),
    ParentChannelNotCancelledRule(),
    UncancellableChildWaitRule(),
    CancelNotDeliveredRule(),
    UncancellableTaskRule(),
    // Kernel facts that say nobody else is to blame: last, so that a
    // probe sequence of our own actors names the cause first.
    WorkingRule(),
    SleepingRule(),
    InProcessWaitRule(),
  ]
}
