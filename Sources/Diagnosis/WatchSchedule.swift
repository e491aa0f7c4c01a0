import KernelEvidence

/// When `watch` looks at the tree while it runs, without stopping anything:
/// full snapshots at fixed times (`--at`), light samples every period
/// (`--sample`), and a full snapshot when the tree stalls (`--on-stall`).
/// Pure: given the clock it says what is due (WatchRecorder does it).
public struct WatchSchedule: Sendable, Equatable {
  /// Full snapshots at these times after the start (ms), each once.
  public var atMs: [Int] = []
  /// A light sample of every process every this many ms (samples.jsonl).
  public var sampleMs: Int? = nil
  /// A full snapshot when nothing used CPU and no wait edge changed for this long.
  public var onStallMs: Int? = nil

  public init(atMs: [Int] = [], sampleMs: Int? = nil, onStallMs: Int? = nil) {
    self.atMs = Array(Set(atMs)).sorted()
    self.sampleMs = sampleMs
    self.onStallMs = onStallMs
  }

  /// The smallest `--sample` accepted. Measured (LightSample.take): one
  /// light sample of a 10-process Python tree costs ~4 ms of CPU, of a
  /// 7-actor tractor tree ~7 ms; at 10 ms that is half a core or more, at
  /// 50 ms under 15% (README, "Time in watch").
  public static let minSampleMs = 10

  /// How often to sample: `--sample`, or, for `--on-stall` alone, a fifth
  /// of the stall (20-100 ms), so that a stall is seen within ~20% of it.
  public var samplePeriodMs: Int? {
    if let s = sampleMs { return s }
    return onStallMs.map { min(100, max(20, $0 / 5)) }
  }

  public var isEmpty: Bool { atMs.isEmpty && samplePeriodMs == nil }
}

/// What is due at a moment of a watched run.
public enum WatchDue: Sendable, Equatable {
  case at(ms: Int)
  case sample
}

/// The schedule's clock over one run: the next moment something is due,
/// and what is due by now. Late ticks (a snapshot took a while) are not
/// made up in a burst: the next sample is the next tick still ahead.
public struct WatchClock: Sendable {
  public let startNs: UInt64
  private var pendingAt: [Int]
  private let periodNs: UInt64?
  private var nextSampleNs: UInt64?

  public init(_ s: WatchSchedule, startNs: UInt64) {
    self.startNs = startNs
    pendingAt = s.atMs
    periodNs = s.samplePeriodMs.map { UInt64($0) * 1_000_000 }
    nextSampleNs = periodNs.map { startNs + $0 }
  }

  /// The earliest moment something is due; nil when nothing is left.
  public var nextNs: UInt64? {
    let at = pendingAt.first.map { startNs + UInt64($0) * 1_000_000 }
    switch (at, nextSampleNs) {
    case (let a?, let b?): return min(a, b)
    case (let a?, nil): return a
    case (nil, let b): return b
    }
  }

  /// Everything due at `nowNs`, in order (snapshots before the sample),
  /// and the clock moved past it.
  public mutating func due(nowNs: UInt64) -> [WatchDue] {
    var out: [WatchDue] = []
    while let a = pendingAt.first, startNs + UInt64(a) * 1_000_000 <= nowNs {
      out.append(.at(ms: a))
      pendingAt.removeFirst()
    }
    if let n = nextSampleNs, let p = periodNs, n <= nowNs {
      out.append(.sample)
      let missed = (nowNs - n) / p
      nextSampleNs = n + (missed + 1) * p
    }
    return out
  }
}

/// Tells a stall from samples: no process of the tree used CPU, none came
/// or went, and no wait edge changed, for `stallNs`. Says so once per
/// stall: a new one needs activity in between.
public struct StallDetector: Sendable {
  public let stallNs: UInt64
  private var last: LightSample?
  private var quietSinceNs: UInt64 = 0
  private var fired = false
  private var rebased = false

  public init(stallMs: Int) { stallNs = UInt64(stallMs) * 1_000_000 }

  /// Our own look disturbed the tree (a full snapshot's ptrace stops wake
  /// each process for a moment): the next sample is a new baseline, and
  /// what moved since the last one is not activity.
  public mutating func rebase() { rebased = true }

  /// Feeds the next sample; true when a stall is reached with it.
  public mutating func observe(_ s: LightSample) -> Bool {
    defer { last = s }
    guard let prev = last else {
      quietSinceNs = s.t
      return false
    }
    if rebased {
      rebased = false
      return false
    }
    if StallDetector.active(prev, s) {
      quietSinceNs = s.t
      fired = false
      return false
    }
    guard !fired, s.t &- quietSinceNs >= stallNs else { return false }
    fired = true
    return true
  }

  /// Whether anything moved between two samples: CPU used by a process
  /// seen in both, a process that came or went (or became a zombie), a
  /// wait edge that came or went.
  public static func active(_ a: LightSample, _ b: LightSample) -> Bool {
    guard a.processes.map(\.pid) == b.processes.map(\.pid) else { return true }
    for (p, q) in zip(a.processes, b.processes) {
      if q.cpuNs > p.cpuNs || p.isZombie != q.isZombie { return true }
    }
    return a.edges != b.edges
  }
}
