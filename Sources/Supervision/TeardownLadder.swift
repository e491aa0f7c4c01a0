import Glibc

/// How a child or a tree is ended, as data: each step runs in order until
/// the processes are gone. `.escalate` is the last resort: SIGKILL (for a
/// tree: freeze with SIGSTOP, collect, SIGKILL through pidfds), then a reap
/// bounded by `reapBoundMs`. A ladder that does not end in `.escalate` gets
/// one appended: teardown always ends with nothing left.
public struct TeardownLadder: Sendable, Equatable {
  public enum Step: Sendable, Equatable {
    /// Send this signal (through the pidfd).
    case signal(Int32)
    /// Give the processes this long to exit (reaping what exits).
    case wait(ms: Int)
    /// SIGKILL whatever is left.
    case escalate
  }

  public var steps: [Step]
  /// How long the reap after `.escalate` may take (a process in D state
  /// can outlive SIGKILL for a while: then it is reported, never waited on
  /// without a bound).
  public var reapBoundMs: Int

  public init(_ steps: [Step], reapBoundMs: Int) {
    self.steps = steps.last == .escalate ? steps : steps + [.escalate]
    self.reapBoundMs = reapBoundMs
  }

  /// Straight to SIGKILL: the tree kill of run, watch and bench.
  public static func kill(reapBoundMs: Int = 5000) -> TeardownLadder { TeardownLadder([.escalate], reapBoundMs: reapBoundMs) }
}
