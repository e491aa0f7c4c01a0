import SystemCore

/// One line of progress on stderr ("compare: fork trial 2/3"), rewritten in
/// place, only when stderr is a terminal: a CI log or a redirected stderr
/// gets nothing, so progress never mixes into captured output.
public struct ProgressLine {
  let enabled: Bool
  let prefix: String

  public init(_ prefix: String) {
    self.prefix = prefix
    enabled = Syscalls.isTerminal(2)
  }

  /// Replaces the line with `prefix: text` (carriage return, erase line).
  public func show(_ text: String) {
    if enabled { Syscalls.write("\r\u{1b}[K\(prefix): \(text)", to: 2) }
  }

  /// Erases the line, before the result is printed.
  public func clear() {
    if enabled { Syscalls.write("\r\u{1b}[K", to: 2) }
  }
}
