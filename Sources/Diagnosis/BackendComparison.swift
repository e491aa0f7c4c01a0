import ActorRuntime
import MiniJSON
import Probes

/// One backend's trials of the same tree.
public struct BackendTrials: Sendable {
  public var backend: String
  public var verdicts: [Verdict]
  /// Probe sequences of the first trial, per actor name, with each event's
  /// time since the run started (ms).
  public var sequences: [String: [(String, Double)]]
  /// The trial a termination signal (Ctrl-C) cut short: its tree was killed,
  /// it counts in no outcome column, and no trial ran after it.
  public var interrupted: Verdict? = nil

  public init(backend: String, verdicts: [Verdict], sequences: [String: [(String, Double)]]) {
    self.backend = backend
    self.verdicts = verdicts
    self.sequences = sequences
  }

  public func count(_ outcome: String) -> Int { verdicts.filter { $0.outcome == outcome }.count }
  public var medianSpawnMs: Double? { VerdictBuilder.median(verdicts.compactMap(\.spawnMsPerActor)) }
  public var medianTeardownMs: Double? { VerdictBuilder.median(verdicts.compactMap(\.teardownMs)) }
}

/// Where a backend's run first differs from the reference backend's.
public struct Divergence: Sendable {
  public var actor: String
  public var index: Int
  public var reference: [String]  // events around the difference
  public var other: [String]
  public var referencePid: Int32?
  public var otherPid: Int32?
}

/// Runs one tree under several backends and finds the first divergence.
public enum BackendComparison {
  /// Sites that differ between backends by design (how a child is made).
  static let backendSpecificSites: Set<String> = ["fork", "forkserver", "child_target", "loop"]

  /// The comparable probe sequence of each actor, by name.
  /// Concurrent supervision of several children interleaves in a parent's
  /// log in whatever order the children answer; that is not a divergence.
  /// So each actor's events are split into streams: its own (no peer), and
  /// one per child ("root → spawner_0_depth_1"), each in time order.
  public static func sequences(runDir: String, actors: [ActorRecord]) -> [String: [(String, Double)]] {
    guard let log = try? ProbeLog.read(runDir: runDir) else { return [:] }
    var out: [String: [(String, Double)]] = [:]
    for a in actors { out[a.name] = [] }
    let names = Dictionary(actors.map { ($0.pid, $0.name) }, uniquingKeysWith: { a, _ in a })
    let parentOf = Dictionary(actors.map { ($0.pid, $0.parentPid) }, uniquingKeysWith: { a, _ in a })
    let t0 = log.events.first?.t ?? 0
    for e in log.events {
      guard let n = names[e.pid], !backendSpecificSites.contains(e.site) else { continue }
      var key = n
      if let p = e.peer, let child = names[p], child != n, parentOf[p] == e.pid {
        key = n + " → " + child
      }
      out[key, default: []].append(("\(e.site) \(e.event)", Double(e.t &- t0) / 1e6))
    }
    return out
  }

  /// The first divergence in time: of all actors (matched by name) whose
  /// sequences differ, the one whose first differing event came earliest.
  /// Sibling-order races at a parent diverge late; a child that never ran
  /// diverges at its spawn.
  public static func firstDivergence(reference: BackendTrials, other: BackendTrials) -> Divergence? {
    guard let refV = reference.verdicts.first, let othV = other.verdicts.first else { return nil }
    var names = reference.sequences.keys.sorted()
    for k in other.sequences.keys.sorted() where !names.contains(k) { names.append(k) }
    // Severity first: a side with no probe at all (never reached ENTER), then
    // one that reached EXIT where the other did not; races rank last.
    func severity(_ a: [(String, Double)], _ b: [(String, Double)]) -> Int {
      if a.isEmpty != b.isEmpty { return 2 }
      let ea = a.contains { $0.0 == "process EXIT" }
      let eb = b.contains { $0.0 == "process EXIT" }
      return ea != eb ? 1 : 0
    }
    var best: (Int, Double, Divergence)? = nil
    for name in names {
      let a = reference.sequences[name] ?? []
      let b = other.sequences[name] ?? []
      if a.map(\.0) == b.map(\.0) { continue }
      var i = 0
      while i < a.count && i < b.count && a[i].0 == b[i].0 { i += 1 }
      let when = min(i < a.count ? a[i].1 : .infinity, i < b.count ? b[i].1 : .infinity)
      let lo = max(0, i - 2)
      let d = Divergence(
        actor: name, index: i, reference: a[lo..<min(a.count, i + 3)].map(\.0), other: b[lo..<min(b.count, i + 3)].map(\.0),
        referencePid: refV.actors.first { $0.name == name.actorPart }?.pid,
        otherPid: othV.actors.first { $0.name == name.actorPart }?.pid)
      let sev = severity(a, b)
      if best == nil || sev > best!.0 || (sev == best!.0 && when < best!.1) { best = (sev, when, d) }
    }
    return best?.2
  }

  public static func json(_ results: [BackendTrials]) -> JSONValue {
    let ref = results.first
    return [
      "reference": .from(ref?.backend),
      "backends": .array(
        results.map { r in
          let d = ref.flatMap { $0.backend == r.backend ? nil : firstDivergence(reference: $0, other: r) }
          return [
            "backend": .string(r.backend), "trials": .int(Int64(r.verdicts.count)),
            "clean": .int(Int64(r.count("clean"))), "hang": .int(Int64(r.count("hang"))),
            "leak": .int(Int64(r.count("leak"))), "unexpected": .int(Int64(r.count("unexpected"))),
            "interrupted": .int(r.interrupted == nil ? 0 : 1),
            "interruptedRunDir": .from(r.interrupted?.runDir),
            "medianSpawnMsPerActor": r.medianSpawnMs.map { .double(($0 * 1000).rounded() / 1000) } ?? .null,
            "medianTeardownMs": r.medianTeardownMs.map { .double(($0 * 10).rounded() / 10) } ?? .null,
            "hangClasses": .array(Array(Set(r.verdicts.compactMap(\.hangClass?.name))).sorted().map { .string($0) }),
            "stuckActors": .array(
              Array(Set(r.verdicts.flatMap { v in v.stuck.map { v.name(of: $0) } })).sorted().map { .string($0) }),
            "runDirs": .array(r.verdicts.map { .string($0.runDir) }),
            "firstDivergence": d.map { d in
              [
                "actor": .string(d.actor), "index": .int(Int64(d.index)),
                "reference": .array(d.reference.map { .string($0) }), "this": .array(d.other.map { .string($0) }),
                "referencePid": .from(d.referencePid), "pid": .from(d.otherPid),
              ] as JSONValue
            } ?? .null,
          ]
        }),
    ]
  }
}

extension String {
  /// "root → child" names the stream; the actor is the part before the arrow.
  var actorPart: String { String(split(separator: " → ", maxSplits: 1).first ?? Substring(self)) }
}
