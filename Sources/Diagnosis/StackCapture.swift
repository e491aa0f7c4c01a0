import Glibc
import NativeStacks
import PythonStacks
import Synchronization
import SystemCore

/// Native stacks and Python views of several processes, taken the one way
/// both `snapshot` and the verdicts take them:
/// - /proc/PID/maps is read ONCE per process and handed to both readers (the
///   kernel formats every mapping with its path on each read: reading it three
///   times per process was ~20% of a `snapshot --tree` of 6 Python processes);
/// - the processes are shared out over two capture threads (this machine class
///   has 2 cores and the targets are idle while we look). Each process is
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

  /// Capture threads: the machine's CPUs, at most 2 (beyond that the
  /// processes of one tree are too few to gain, and the targets need CPU too).
  static var workers: Int { max(1, min(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))) }

  /// Takes every request; results keyed by pid. Requests with neither part are skipped.
  public static func take(
    _ requests: [Request], maxFrames: Int = 48, symbolizer: Symbolizer = .fast
  ) -> [Int32: Taken] {
    let work = requests.filter { $0.native || $0.python }
    let results = Mutex<[Int32: Taken]>([:])
    let next = Atomic<Int>(0)
    let one: @Sendable () -> Void = {
      let python = PythonStackSession()
      while true {
        let i = next.add(1, ordering: .relaxed).oldValue
        guard i < work.count else { return }
        let r = work[i]
        let maps = Syscalls.readFile("/proc/\(r.pid)/maps")
        var t = Taken()
        if r.python { t.python = python.capture(pid: r.pid, maps: maps) }
        if r.native { t.native = NativeStacks.capture(pid: r.pid, maxFrames: maxFrames, symbolizer: symbolizer, maps: maps) }
        results.withLock { $0[r.pid] = t }
      }
    }
    let n = min(workers, work.count)
    Threads.runAll(Array(repeating: one, count: max(n, 1)))
    return results.withLock { $0 }
  }
}
