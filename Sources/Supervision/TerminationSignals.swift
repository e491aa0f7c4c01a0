import SystemCore

/// SIGINT, SIGTERM and SIGHUP as readable events instead of handlers: they
/// are blocked in the calling thread (and so in threads it starts later)
/// and read from a signalfd. Every supervisor (run, watch, bench) takes them
/// this one way, so Ctrl-C always ends in a killed, reaped tree. The mask
/// stays blocked after this value dies: a signal that arrives later stays
/// pending for the next supervisor instead of killing the tool mid-teardown.
public final class TerminationSignals: @unchecked Sendable {
  private let fd: FileDescriptor

  /// Blocks the signals and opens the signalfd; nil if signalfd failed
  /// (the tool then dies on Ctrl-C as any program would).
  public init?() {
    guard let fd = try? ProcessControl.terminationSignalFD() else { return nil }
    self.fd = fd
  }

  /// The fd to watch for readability (an event loop, poll(2)).
  public var descriptor: Int32 { fd.rawValue }

  /// The next pending termination signal, nil when none (never blocks).
  public func take() -> Int32? { ProcessControl.readSignal(fd.rawValue) }
}
