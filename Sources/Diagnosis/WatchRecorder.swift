import Glibc
import KernelEvidence
import MiniJSON
import SystemCore

/// A full snapshot of the tree while it runs: the JSON `snapshot --tree
/// --format json` prints (kernel, Python, native stacks) and one line
/// saying what it shows.
public struct WatchSnapshot: Sendable {
  public var json: JSONValue
  public var summary: String

  public init(json: JSONValue, summary: String) {
    self.json = json
    self.summary = summary
  }
}

/// Takes a full snapshot of these pids and their descendants. The CLI
/// passes the snapshot command's capture (Reports, a layer above this one).
public typealias WatchSnapshotter = @Sendable (_ pids: [Int32]) -> WatchSnapshot

/// Does what the schedule says while a watched command runs: light samples
/// into samples.jsonl, full snapshots at `--at` times and at stalls, one
/// line on stderr for each snapshot. Nothing here stops or signals the
/// tree, so the command's outcome and exit status stay its own.
public final class WatchRecorder: @unchecked Sendable {
  public let schedule: WatchSchedule
  private var clock: WatchClock
  private var stall: StallDetector?
  private let dir: WatchRunDirectory?
  private let snapshotter: WatchSnapshotter?
  private let log: ((String) -> Void)?

  /// Samples taken, and the CPU time (this thread's) they cost in all.
  public private(set) var samples = 0
  public private(set) var sampleCpuNs: UInt64 = 0
  /// Snapshots taken: ms after the start, and why.
  public private(set) var snapshots: [(ms: Int, reason: WatchSnapshotReason)] = []

  public init(
    _ schedule: WatchSchedule, startNs: UInt64, dir: WatchRunDirectory?, snapshotter: WatchSnapshotter?,
    log: ((String) -> Void)?
  ) {
    self.schedule = schedule
    clock = WatchClock(schedule, startNs: startNs)
    stall = schedule.onStallMs.map(StallDetector.init(stallMs:))
    self.dir = dir
    self.snapshotter = snapshotter
    self.log = log
  }

  /// When to wake next: the next due moment, never after `limitNs`.
  public func nextNs(limitNs: UInt64) -> UInt64 { min(clock.nextNs ?? limitNs, limitNs) }

  /// Does everything due by now on the tree `pids`.
  public func runDue(tree pids: @autoclosure () -> [Int32]) {
    let due = clock.due(nowNs: Syscalls.monotonicNs())
    guard !due.isEmpty else { return }
    let tree = pids()
    for d in due {
      switch d {
      case .at: snapshot(.at, tree: tree)
      case .sample: sample(tree: tree)
      }
    }
  }

  /// One light sample now: kept when `--sample` asked for samples, fed to
  /// the stall detector when `--on-stall` did.
  public func sample(tree: [Int32]) {
    guard schedule.samplePeriodMs != nil else { return }
    let cpu0 = Syscalls.clockNs(CLOCK_THREAD_CPUTIME_ID) ?? 0
    // An empty tree is a sample too: it is where the last processes' exits show.
    let s = tree.isEmpty ? LightSample(t: Syscalls.monotonicNs(), processes: []) : LightSample.take(pids: tree)
    sampleCpuNs += (Syscalls.clockNs(CLOCK_THREAD_CPUTIME_ID) ?? 0) &- cpu0
    samples += 1
    if schedule.sampleMs != nil { dir?.append(s) }
    if stall?.observe(s) == true { snapshot(.stall, tree: tree) }
  }

  /// A full snapshot now, kept as snapshot-<ms>ms.json and said on stderr.
  public func snapshot(_ reason: WatchSnapshotReason, tree: [Int32]) {
    guard let snapshotter, !tree.isEmpty else { return }
    let t = Syscalls.monotonicNs()
    var ms = Int((t &- clock.startNs) / 1_000_000)
    // One file per snapshot: an --at and a stall in the same ms do not share one.
    while snapshots.contains(where: { $0.ms == ms }) { ms += 1 }
    let snap = snapshotter(tree)
    snapshots.append((ms, reason))
    stall?.rebase()
    dir?.writeSnapshot(ms: ms, t: t, reason: reason, snapshot: snap.json)
    let why: String
    switch reason {
    case .at: why = "at \(ms) ms"
    case .stall: why = "at \(ms) ms, stalled (no CPU, no wait edge changed for \(schedule.onStallMs ?? 0) ms)"
    case .request: why = "at \(ms) ms, on request"
    }
    log?("snapshot \(why): \(snap.summary)" + (dir.map { " -> \($0.snapshotPath(ms: ms))" } ?? ""))
  }

  /// Mean CPU per light sample, ms (nil before the first).
  public var sampleCpuMs: Double? { samples == 0 ? nil : Double(sampleCpuNs) / Double(samples) / 1e6 }
}
