import CSystem
import Glibc

/// Signal masks and dispositions, and termination signals as an fd.
extension Syscalls {
  /// sigprocmask(SIG_BLOCK, signals): held pending until unblocked or read.
  public static func block(signals: [Int32]) {
    var set = sigset_t()
    sigemptyset(&set)
    for s in signals { sigaddset(&set, s) }
    sigprocmask(SIG_BLOCK, &set, nil)
  }

  /// sigpending(2): which of `signals` are pending (blocked and delivered).
  public static func pending(of signals: [Int32]) -> [Int32] {
    var set = sigset_t()
    sigemptyset(&set)
    sigpending(&set)
    return signals.filter { sigismember(&set, $0) == 1 }
  }

  /// sigprocmask(empty) + SIG_DFL for every catchable signal: a fork child
  /// inherits the forking thread's mask and handlers. No allocation.
  public static func resetSignals() { cs_reset_signals() }

  /// signal(sig, SIG_IGN) for each of `signals` (a pending one is discarded).
  public static func ignore(signals: [Int32]) { for s in signals { _ = Glibc.signal(s, SIG_IGN) } }

  /// signal(SIGPIPE, SIG_IGN): a write to a closed socket fails with EPIPE.
  public static func ignoreSIGPIPE() { cs_ignore_sigpipe() }
}

/// Calls `body` with a NULL-terminated C array of the strings.
public func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
  var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  ptrs.append(nil)
  defer { for p in ptrs { free(p) } }
  return body(ptrs)
}

