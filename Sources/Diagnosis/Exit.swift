/// The documented exit codes of tractor-diag (README "Exit codes"), in one place.
public enum Exit {
  public static let clean: Int32 = 0
  /// A hang or a leak was found.
  public static let hangOrLeak: Int32 = 1
  /// No hang, but an unexpected outcome.
  public static let unexpected: Int32 = 3
  public static let usage: Int32 = 64
  /// A malformed input file, or logs too damaged to analyse.
  public static let badInput: Int32 = 65
  public static let internalError: Int32 = 70
  /// `watch` only: the command could not be started.
  public static let commandNotStarted: Int32 = 127
  /// `watch` only: the command outlived the deadline (as coreutils `timeout`).
  public static let outlivedDeadline: Int32 = 124
  /// `watch` only: the command finished but left processes alive after the grace.
  public static let leftProcessesBehind: Int32 = 3
  /// Ctrl-C: the tree was killed and reaped first.
  public static let interrupted: Int32 = 130
  /// Ended by another termination signal: the shell's 128 + signal.
  public static func signaled(_ sig: Int32) -> Int32 { 128 + sig }
}
