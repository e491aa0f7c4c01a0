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

  /// signal(SIGPIPE, SIG_IGN): a write to a closed socket fails with EPIPE.
  public static func ignoreSIGPIPE() { cs_ignore_sigpipe() }
}

/// SIGINT, SIGTERM and SIGHUP delivered as reads on a signalfd (blocked as
/// signals), so that a loop can watch them like any fd.
public struct TerminationSignals: ~Copyable {
  public private(set) var descriptor: FileDescriptor

  /// close(2) of the signalfd (the signals stay blocked).
  public mutating func close() { descriptor.close() }

  /// sigprocmask(SIG_BLOCK) + signalfd(SFD_NONBLOCK | SFD_CLOEXEC).
  public init() throws(SystemError) {
    descriptor = FileDescriptor(adopting: try retryingSyscall("signalfd") { cs_termination_signalfd() })
  }

  /// None watched (rawValue -1; `next()` is always nil).
  public init(none: Void) { descriptor = .none }

  /// The set-up every supervisor of a process tree does first: become a
  /// child subreaper (orphans of the tree come back to us to be reaped) and
  /// take the termination signals as a signalfd (Ctrl-C must still end in a
  /// dead, reaped tree). When the signalfd cannot be made (rawValue -1) the
  /// tree runs with default signal handling.
  public static func asSubreaper() -> TerminationSignals {
    try? Syscalls.becomeChildSubreaper()
    do { return try TerminationSignals() } catch { return TerminationSignals(none: ()) }
  }

  public var rawValue: Int32 { descriptor.rawValue }

  /// read(2) of one signalfd_siginfo: the signal number, nil if none is pending.
  public func next() -> Int32? {
    guard descriptor.isOpen else { return nil }
    let s = cs_read_signalfd(descriptor.rawValue)
    return s > 0 ? s : nil
  }
}

/// Calls `body` with a NULL-terminated C array of the strings.
public func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
  var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
  ptrs.append(nil)
  defer { for p in ptrs { free(p) } }
  return body(ptrs)
}

