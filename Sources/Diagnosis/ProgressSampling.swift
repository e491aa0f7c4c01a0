import KernelEvidence
import MiniJSON
import SystemCore

/// What a process did across the sample window (several ProgressSamples):
/// whether it was at work, spinning in place, or still.
public struct Progress: Sendable, Equatable {
  public enum Activity: String, Sendable {
    /// No CPU in the window.
    case idle
    /// CPU used and its state moved: memory touched (minor faults, RSS),
    /// threads came or went, a thread's syscall or wchan changed.
    case working
    /// Runnable (on a CPU or waiting for one) at least half of every
    /// interval, CPU used, and nothing else about it moved.
    case spinning
    /// Some CPU, but neither of the above (a short wake-up, a starved start).
    case unclear
  }

  public var samples: Int
  public var windowMs: Double
  public var onCpuMs: Double
  /// On a CPU plus waiting for one: what it asked of the scheduler.
  public var runnableMs: Double
  /// The smallest share of an interval it was runnable (0...1).
  public var minRunnableShare: Double
  public var minorFaults: Int
  public var rssKbDelta: Int
  public var threadsDelta: Int
  /// Some thread's state, syscall or wchan differed between samples.
  public var threadsMoved: Bool
  public var activity: Activity

  /// A runnable share at or above this in every interval is "runnable the
  /// whole window". Measured: eof-spin and busy_loop.py stay runnable 100%
  /// of each 50 ms interval at load 10 on 2 cores (on CPU 20-40 ms, the
  /// rest waiting for a CPU); an idle loop is runnable 0%.
  public static let spinShare = 0.5

  /// Judges consecutive samples of one process; nil with fewer than two.
  /// A blocked thread that is found in another call or wait channel in a
  /// later sample made progress. A runnable thread's syscall says nothing:
  /// a spinner is caught now in user code, now in sched_yield or a read
  /// that returns at once, and that is not progress.
  static func blockedThreadMoved(_ s: [ProgressSample]) -> Bool {
    var at: [Substring: Substring] = [:]  // tid -> "syscall wchan" while blocked
    for sample in s {
      for t in sample.threads {
        let f = t.split(separator: " ", maxSplits: 2)  // "tid state syscall wchan"
        guard f.count == 3, f[1] != "R" else { continue }
        if let before = at[f[0]], before != f[2] { return true }
        at[f[0]] = f[2]
      }
    }
    return false
  }

  public static func judge(_ s: [ProgressSample]) -> Progress? {
    guard s.count >= 2, let first = s.first, let last = s.last, last.atNs > first.atNs else { return nil }
    var minShare = 1.0
    for (a, b) in zip(s, s.dropFirst()) {
      let dt = Double(b.atNs &- a.atNs)
      let run = Double((b.onCpuNs &- a.onCpuNs) &+ (b.runDelayNs &- a.runDelayNs))
      minShare = min(minShare, dt > 0 ? run / dt : 0)
    }
    let cpu = last.onCpuNs &- first.onCpuNs
    let run = cpu &+ (last.runDelayNs &- first.runDelayNs)
    let faults = Int(last.minorFaults) - Int(first.minorFaults)
    let rss = Int(last.rssPages - first.rssPages) * 4  // 4 KB pages: x86_64, the one ABI read (SyscallInfo)
    let threads = last.threadCount - first.threadCount
    let moved = blockedThreadMoved(s)
    let activity: Activity
    if cpu == 0 {
      activity = .idle
    } else if faults != 0 || rss != 0 || threads != 0 || moved {
      activity = .working
    } else if minShare >= spinShare {
      activity = .spinning
    } else {
      activity = .unclear
    }
    return Progress(
      samples: s.count, windowMs: Double(last.atNs - first.atNs) / 1e6, onCpuMs: Double(cpu) / 1e6,
      runnableMs: Double(run) / 1e6, minRunnableShare: minShare, minorFaults: faults, rssKbDelta: rss,
      threadsDelta: threads, threadsMoved: moved, activity: activity)
  }

  /// Samples every pid `count` times, `intervalMs` apart (a measurement
  /// window, not synchronisation): pid -> its samples in order.
  public static func sample(_ pids: [Int32], count: Int, intervalMs: Int) -> [Int32: [ProgressSample]] {
    var out: [Int32: [ProgressSample]] = [:]
    for i in 0..<count {
      if i > 0 { Syscalls.sleep(ms: intervalMs) }
      for p in pids { if let x = ProgressSample.read(pid: p) { out[p, default: []].append(x) } }
    }
    return out
  }

  /// "working: 12.0 ms CPU, 35.1 ms runnable in 100.2 ms (3 samples), 40 minor faults".
  public var text: String {
    func f(_ x: Double) -> String { String(Int((x * 10).rounded())) .withDecimal }
    var t = "\(activity.rawValue): \(f(onCpuMs)) ms CPU, \(f(runnableMs)) ms runnable in \(f(windowMs)) ms (\(samples) samples)"
    var moved: [String] = []
    if minorFaults != 0 { moved.append("\(minorFaults) minor faults") }
    if rssKbDelta != 0 { moved.append("RSS \(rssKbDelta > 0 ? "+" : "")\(rssKbDelta) KB") }
    if threadsDelta != 0 { moved.append("threads \(threadsDelta > 0 ? "+" : "")\(threadsDelta)") }
    if threadsMoved { moved.append("syscall/wchan changed") }
    if !moved.isEmpty { t += ", " + moved.joined(separator: ", ") }
    return t
  }

  var json: JSONValue {
    .object([
      ("activity", .string(activity.rawValue)), ("samples", .int(Int64(samples))), ("windowMs", .double(windowMs)),
      ("onCpuMs", .double(onCpuMs)), ("runnableMs", .double(runnableMs)), ("minRunnableShare", .double(minRunnableShare)),
      ("minorFaults", .int(Int64(minorFaults))), ("rssKbDelta", .int(Int64(rssKbDelta))),
      ("threadsDelta", .int(Int64(threadsDelta))), ("threadsMoved", .bool(threadsMoved)),
    ])
  }

  init(samples: Int, windowMs: Double, onCpuMs: Double, runnableMs: Double, minRunnableShare: Double, minorFaults: Int,
       rssKbDelta: Int, threadsDelta: Int, threadsMoved: Bool, activity: Activity) {
    self.samples = samples
    self.windowMs = windowMs
    self.onCpuMs = onCpuMs
    self.runnableMs = runnableMs
    self.minRunnableShare = minRunnableShare
    self.minorFaults = minorFaults
    self.rssKbDelta = rssKbDelta
    self.threadsDelta = threadsDelta
    self.threadsMoved = threadsMoved
    self.activity = activity
  }

  init?(json v: JSONValue?) {
    guard let v, let a = v["activity"]?.string.flatMap(Activity.init(rawValue:)) else { return nil }
    self.init(
      samples: Int(v["samples"]?.int ?? 0), windowMs: v["windowMs"]?.double ?? 0, onCpuMs: v["onCpuMs"]?.double ?? 0,
      runnableMs: v["runnableMs"]?.double ?? 0, minRunnableShare: v["minRunnableShare"]?.double ?? 0,
      minorFaults: Int(v["minorFaults"]?.int ?? 0), rssKbDelta: Int(v["rssKbDelta"]?.int ?? 0),
      threadsDelta: Int(v["threadsDelta"]?.int ?? 0), threadsMoved: v["threadsMoved"]?.bool ?? false, activity: a)
  }
}

extension String {
  /// "123" (tenths) -> "12.3".
  fileprivate var withDecimal: String {
    let neg = hasPrefix("-")
    var d = neg ? String(dropFirst()) : self
    while d.count < 2 { d = "0" + d }
    return (neg ? "-" : "") + d.dropLast() + "." + d.suffix(1)
  }
}
