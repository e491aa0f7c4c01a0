import NativeStacks
import SystemCore

/// Work a `snapshot` needs whatever its arguments turn out to be, started on
/// a second thread before they are parsed: loading libunwind (dlopen of two
/// libraries and their relocation, ~0.5 ms) for the native stacks. Whoever
/// needs it first waits for it inside NativeStacks (pthread_once), so a
/// snapshot with --no-stacks never waits.
public final class SnapshotPrefetch: Sendable {
  private let thread: Threads.Joinable

  private init(thread: Threads.Joinable) { self.thread = thread }

  /// Starts the work (pthread_create).
  public static func start() -> SnapshotPrefetch {
    SnapshotPrefetch(thread: Threads.spawn { _ = NativeStacks.isAvailable })
  }

  /// Waits for the work to end (a dlopen: bounded), so that no thread of
  /// the tool is still loading libraries when it exits.
  public func finish() { thread.join() }
}
