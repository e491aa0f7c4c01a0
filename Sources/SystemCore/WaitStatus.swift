import CSystem

/// A decoded wait(2) status.
public enum WaitStatus: Sendable, Equatable, CustomStringConvertible {
  case exited(Int32)
  case signaled(Int32)

  public init(raw: Int32) {
    if cs_wifsignaled(raw) != 0 { self = .signaled(cs_wtermsig(raw)) } else { self = .exited(cs_wexitstatus(raw)) }
  }

  public var description: String {
    switch self {
    case .exited(let c): return "exit \(c)"
    case .signaled(let s): return "signal \(s) (\(signalName(s)))"
    }
  }

  /// Shell convention: 128+signal for a signal death.
  public var code: Int32 {
    switch self {
    case .exited(let c): return c
    case .signaled(let s): return 128 + s
    }
  }
}

public func signalName(_ s: Int32) -> String {
  switch s {
  case 1: return "SIGHUP"
  case 2: return "SIGINT"
  case 3: return "SIGQUIT"
  case 6: return "SIGABRT"
  case 9: return "SIGKILL"
  case 11: return "SIGSEGV"
  case 13: return "SIGPIPE"
  case 15: return "SIGTERM"
  case 19: return "SIGSTOP"
  default: return "SIG\(s)"
  }
}
