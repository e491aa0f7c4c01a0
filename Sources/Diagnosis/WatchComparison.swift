import KernelEvidence
import MiniJSON

/// One trial of `compare --watch`: a watched run of the command under one
/// of the program's own backends, reduced to what is compared.
public struct WatchTrial: Sendable {
  public enum Outcome: Sendable, Equatable {
    case clean
    /// Finished in time, nothing left behind, but a non-zero exit status.
    case failed(status: Int)
    case hang
    case leak
  }

  public var outcome: Outcome
  public var runDir: String
  /// From the start to the command's exit; nil when it did not exit.
  public var durationMs: Double?
  public var hangClass: String?
  /// Names of the processes alive at the end (hang) or after the grace (leak).
  public var stuck: [String]
  public var events: [ProcessEvent]
  public var interrupted: Int32?

  public init(_ o: WatchRun.Outcome, samples: [LightSample]) {
    let v = o.verdict
    switch v.outcome {
    case "hang": outcome = .hang
    case "leak": outcome = .leak
    default:
      let code = o.commandStatus?.code ?? 0
      outcome = code == 0 ? .clean : .failed(status: Int(code))
    }
    runDir = v.runDir
    durationMs = o.commandExitNs.map { Double($0 &- o.startNs) / 1e6 }
    hangClass = v.hangClass?.name
    stuck = v.stuck.map { v.name(of: $0) }
    events = ProcessEvents.from(samples, startNs: o.startNs)
    interrupted = v.interrupted
  }
}

/// One backend's trials.
public struct WatchBackendTrials: Sendable {
  public var backend: String
  public var trials: [WatchTrial]
  /// The trial a termination signal (Ctrl-C) cut short: counted in no column.
  public var interrupted: WatchTrial? = nil

  public init(backend: String, trials: [WatchTrial]) {
    self.backend = backend
    self.trials = trials
  }

  public func count(_ o: WatchTrial.Outcome) -> Int { trials.filter { $0.outcome == o }.count }
  public var failed: [Int] {
    trials.compactMap { if case .failed(let s) = $0.outcome { return s } else { return nil } }
  }
  public var medianDurationMs: Double? { VerdictBuilder.median(trials.compactMap(\.durationMs)) }
  public var hangClasses: [String] { Array(Set(trials.compactMap(\.hangClass))).sorted() }
  public var leaked: [String] { Array(Set(trials.filter { $0.outcome == .leak }.flatMap(\.stuck))).sorted() }
  /// Every process shape that appeared in any trial.
  public var shapes: [ProcessShape] {
    var seen: [ProcessShape] = []
    for t in trials { for e in t.events where e.kind == .appeared && !seen.contains(e.shape) { seen.append(e.shape) } }
    return seen
  }
}

/// Where the first trial of one backend first differs from the reference's,
/// in one parent's stream of process events.
public struct ProcessDivergence: Sendable {
  /// The parent whose stream differs ("" for the command's own).
  public var parent: String
  public var index: Int
  public var reference: [String]
  public var other: [String]
  public var ms: Double
}

/// `compare --watch`: the command once per backend and trial under watch.
public enum WatchComparison {
  /// The earliest difference between two runs' process events, stream by
  /// stream (ProcessEvents.streams); nil when every stream is the same.
  public static func firstDivergence(reference: [ProcessEvent], other: [ProcessEvent]) -> ProcessDivergence? {
    let a = ProcessEvents.streams(reference)
    let b = ProcessEvents.streams(other)
    var best: ProcessDivergence? = nil
    for key in Set(a.keys).union(b.keys).sorted() {
      let x = a[key] ?? []
      let y = b[key] ?? []
      if x.map(\.text) == y.map(\.text) { continue }
      var i = 0
      while i < x.count && i < y.count && x[i].text == y[i].text { i += 1 }
      let when = min(i < x.count ? x[i].ms : .infinity, i < y.count ? y[i].ms : .infinity)
      let lo = max(0, i - 1)
      let d = ProcessDivergence(
        parent: key, index: i, reference: x[lo..<min(x.count, i + 3)].map(\.text),
        other: y[lo..<min(y.count, i + 3)].map(\.text), ms: when)
      if best == nil || when < best!.ms { best = d }
    }
    return best
  }

  /// Of `r` against the reference: their first trials.
  public static func divergence(_ r: WatchBackendTrials, from ref: WatchBackendTrials) -> ProcessDivergence? {
    guard let x = ref.trials.first, let y = r.trials.first else { return nil }
    return firstDivergence(reference: x.events, other: y.events)
  }

  public static func json(_ results: [WatchBackendTrials], command: [String], compareDir: String) -> JSONValue {
    let ref = results.first
    return [
      "mode": "watch", "command": .array(command.map { .string($0) }), "reference": .from(ref?.backend),
      "compareDir": .string(compareDir),
      "backends": .array(
        results.map { r in
          let d = ref.flatMap { $0.backend == r.backend ? nil : divergence(r, from: $0) }
          let comparable = ref.map { $0.backend != r.backend && !$0.trials.isEmpty && !r.trials.isEmpty } ?? false
          return [
            "backend": .string(r.backend), "trials": .int(Int64(r.trials.count)),
            "clean": .int(Int64(r.count(.clean))), "hang": .int(Int64(r.count(.hang))),
            "leak": .int(Int64(r.count(.leak))), "failed": .int(Int64(r.failed.count)),
            "failedStatuses": .array(r.failed.map { .int(Int64($0)) }),
            "interrupted": .int(r.interrupted == nil ? 0 : 1), "interruptedRunDir": .from(r.interrupted?.runDir),
            "medianDurationMs": r.medianDurationMs.map { .double(($0 * 10).rounded() / 10) } ?? .null,
            "hangClasses": .array(r.hangClasses.map { .string($0) }), "leaked": .array(r.leaked.map { .string($0) }),
            "processes": .array(r.shapes.map { .object([("name", .string($0.name)), ("role", .string($0.role.rawValue))]) }),
            "events": .array((r.trials.first?.events ?? []).map(eventJSON)),
            "runDirs": .array(r.trials.map { .string($0.runDir) }),
            "firstDivergence": d.map { d in
              .object([
                ("parent", .string(d.parent)), ("index", .int(Int64(d.index))), ("ms", .double((d.ms * 10).rounded() / 10)),
                ("reference", .array(d.reference.map { .string($0) })), ("this", .array(d.other.map { .string($0) })),
              ])
            } ?? .null,
            "sameEvents": comparable ? .bool(d == nil) : .null,
          ]
        }),
    ]
  }

  static func eventJSON(_ e: ProcessEvent) -> JSONValue {
    .object([
      ("kind", .string(e.kind.rawValue)), ("name", .string(e.shape.name)), ("role", .string(e.shape.role.rawValue)),
      ("pid", .int(Int64(e.pid))), ("parent", .from(e.parent?.name)), ("ms", .double((e.ms * 10).rounded() / 10)),
    ])
  }
}
