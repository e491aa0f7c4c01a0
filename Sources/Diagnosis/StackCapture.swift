import Glibc
import KernelEvidence
import NativeStacks
import PythonStacks
import Synchronization
import SystemCore

/// Native stacks and Python views of several processes, taken the one way
/// both `snapshot` and the verdicts take them:
/// - /proc/PID/maps is read ONCE per process and handed to both readers (the
///   kernel formats every mapping with its path on each read: reading it three
///   times per process was ~20% of a `snapshot --tree` of 6 Python processes);
/// - the processes are shared out over the capture threads (Threads.lookers:
///   the targets are idle while we look). Each process is
///   captured whole on one thread: the ptrace attach, stop and detach of a
///   thread must come from the same tracer thread, and they do.
public enum StackCapture {
  /// What to take of one process.
  public struct Request: Sendable {
    public var pid: Int32
    public var native: Bool
    public var python: Bool
    public init(pid: Int32, native: Bool, python: Bool) {
      self.pid = pid
      self.native = native
      self.python = python
    }
  }

  public struct Taken: Sendable {
    public var native: ProcessStacks?
    public var python: PythonSnapshot?
  }

  /// Takes every request; results keyed by pid. Requests with neither part are skipped.
  public static func take(
    _ requests: [Request], maxFrames: Int = 48, symbolizer: Symbolizer = .fast
  ) -> [Int32: Taken] {
    let work = requests.filter { $0.native || $0.python }
    let results = Mutex<[Int32: Taken]>([:])
    Threads.forEach(work.count) { i in
      let t = takeOne(work[i], maxFrames: maxFrames, symbolizer: symbolizer)
      results.withLock { $0[work[i].pid] = t }
    }
    return results.withLock { $0 }
  }

  /// One process, whole, on the calling thread: maps read once, Python first
  /// (no stop), then the native stacks.
  static func takeOne(_ r: Request, maxFrames: Int, symbolizer: Symbolizer) -> Taken {
    let maps = Syscalls.readFile("/proc/\(r.pid)/maps")
    var t = Taken()
    if r.python { t.python = PythonStackSession().capture(pid: r.pid, maps: maps) }
    if r.native { t.native = NativeStacks.capture(pid: r.pid, maxFrames: maxFrames, symbolizer: symbolizer, maps: maps) }
    return t
  }

  /// Takes each process's stacks as the kernel snapshot reads it
  /// (KernelEvidence.snapshot's `alongside`), so that reading the set and
  /// looking at its stacks overlap on the two reading threads.
  public final class Alongside: Sendable {
    let python: Bool
    let native: Bool
    let maxFrames: Int
    let symbolizer: Symbolizer
    let taken = Mutex<[Int32: Taken]>([:])
    let skippedWrites = Mutex<[Int32]>([])

    public init(python: Bool, native: Bool, maxFrames: Int, symbolizer: Symbolizer) {
      self.python = python
      self.native = native
      self.maxFrames = maxFrames
      self.symbolizer = symbolizer
    }

    /// The hook: nothing for a zombie, an exiting process or ourselves; no
    /// native stack for a process blocked in a write (a ptrace stop would cut
    /// the write short: looking must not change what is looked at).
    public func take(_ p: ProcessSnapshot) {
      guard python || native, p.state != "Z", p.state != "X", p.pid != Syscalls.pid else { return }
      var stacks = native
      if stacks && p.threadInWrite != nil {
        stacks = false
        skippedWrites.withLock { $0.append(p.pid) }
      }
      let t = StackCapture.takeOne(
        Request(pid: p.pid, native: stacks, python: python), maxFrames: maxFrames, symbolizer: symbolizer)
      taken.withLock { $0[p.pid] = t }
    }

    /// What was taken, by pid.
    public var results: [Int32: Taken] { taken.withLock { $0 } }
    /// Processes whose native stack was not taken because they were writing, in pid order.
    public var writers: [Int32] { skippedWrites.withLock { $0.sorted() } }
  }
}
