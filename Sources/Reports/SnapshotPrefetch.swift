import KernelEvidence
import NativeStacks
import Synchronization
import SystemCore

/// Work a `snapshot` needs whatever its arguments turn out to be, started on
/// a second thread before they are parsed: loading libunwind (dlopen of two
/// libraries, for the native stacks) and the scan of every process's fds (for
/// the other ends of the set's pipes and sockets). Parsing the command line
/// costs the tool's first ~2.5 ms (ArgumentParser's first use of the Swift
/// runtime's type metadata); the scan costs ~2 ms on a quiet 2-core machine
/// with ~80 processes. They overlap instead of adding up.
public final class SnapshotPrefetch: Sendable {
  private final class Slot: Sendable {
    let outside = Mutex<OutsideHolders?>(nil)
  }
  private let thread: Threads.Joinable
  private let slot: Slot

  private init(thread: Threads.Joinable, slot: Slot) {
    self.thread = thread
    self.slot = slot
  }

  /// Starts the work (pthread_create); nothing waits for it unless `outsideHolders()` is called.
  public static func start() -> SnapshotPrefetch {
    let slot = Slot()
    let thread = Threads.spawn {
      _ = NativeStacks.isAvailable
      let o = KernelEvidence.scanOutside()
      slot.outside.withLock { $0 = o }
    }
    return SnapshotPrefetch(thread: thread, slot: slot)
  }

  /// The scan (waits for it: a bounded walk of /proc).
  public func outsideHolders() -> OutsideHolders? {
    thread.join()
    return slot.outside.withLock { $0 }
  }
}
