import SystemCore

/// One look at how far a process has got: what the scheduler counted and
/// what its threads are in. Several of these across a short window tell a
/// process at work from one spinning in place (ProgressSampling).
public struct ProgressSample: Sendable, Equatable {
  /// CLOCK_MONOTONIC when read.
  public var atNs: UInt64
  /// /proc/PID/schedstat field 1: ns on a CPU (all threads).
  public var onCpuNs: UInt64
  /// /proc/PID/schedstat field 2: ns runnable but waiting for a CPU. With
  /// `onCpuNs` it is the time the process wanted the CPU, which a loaded
  /// machine does not shrink (ticks on CPU alone do).
  public var runDelayNs: UInt64
  /// /proc/PID/stat fields 10, 20, 24.
  public var minorFaults: UInt64
  public var threadCount: Int
  public var rssPages: Int64
  /// Per thread, sorted by tid: "tid state syscall-nr-or-running wchan".
  public var threads: [String]
  public var state: Character

  public init(atNs: UInt64, onCpuNs: UInt64, runDelayNs: UInt64, minorFaults: UInt64, threadCount: Int, rssPages: Int64,
              threads: [String], state: Character) {
    self.atNs = atNs
    self.onCpuNs = onCpuNs
    self.runDelayNs = runDelayNs
    self.minorFaults = minorFaults
    self.threadCount = threadCount
    self.rssPages = rssPages
    self.threads = threads
    self.state = state
  }

  /// Reads /proc/PID/{stat,schedstat,task/*/{stat,syscall,wchan}}; nil once
  /// the process is gone.
  public static func read(pid: Int32) -> ProgressSample? {
    let at = Syscalls.monotonicNs()
    guard let st = ProcStat.read(pid: pid) else { return nil }
    let sched = ProcFS.fields(ProcFS.readText("/proc/\(pid)/schedstat") ?? "")
    var threads: [String] = []
    if !(st.state == "Z" || st.state == "X") {
      for tid in ProcFS.listNumeric("/proc/\(pid)/task").sorted() {
        let state = ProcStat.read(pid: pid, tid: tid)?.state ?? "?"
        let sys = ProcFS.readText("/proc/\(pid)/task/\(tid)/syscall") ?? ""
        let nr = sys.hasPrefix("running") ? "running" : String(ProcFS.fields(sys).first ?? "-")
        let wchan = ProcFS.readText("/proc/\(pid)/task/\(tid)/wchan") ?? "-"
        threads.append("\(tid) \(state) \(nr) \(wchan)")
      }
    }
    return ProgressSample(
      atNs: at, onCpuNs: sched.first.flatMap { UInt64($0) } ?? 0,
      runDelayNs: sched.count > 1 ? UInt64(sched[1]) ?? 0 : 0, minorFaults: st.minorFaults,
      threadCount: st.threadCount, rssPages: st.rssPages, threads: threads, state: st.state)
  }
}
