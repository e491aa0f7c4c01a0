import MiniJSON
import SystemCore

/// The files `watch --run-dir DIR` leaves (the contract the watch side
/// writes to): watch.json, samples.jsonl (one sample per line),
/// snapshot-<ms>ms.json, evidence.json. Read for the trace and the
/// timeline; the watch may still be writing samples, so a torn last line
/// is skipped and counted.
public struct WatchRunDir: Sendable {
  public struct Process: Sendable, Equatable {
    public var pid: Int32
    public var ppid: Int32
    public var name: String
    public var state: WaitState
  }

  public struct Sample: Sendable {
    public var t: UInt64
    public var processes: [Process]
  }

  public struct Snapshot: Sendable {
    public var file: String
    public var t: UInt64
    public var reason: String
  }

  public var dir: String
  public var command: [String]
  public var commandPid: Int32
  public var startNs: UInt64
  public var endNs: UInt64
  public var outcome: String
  public var exitCode: Int?
  public var timeoutMs: Int?
  public var samples: [Sample]
  public var snapshots: [Snapshot]
  /// The deadline (or leak, Ctrl-C) snapshot's time, from evidence.json.
  public var evidenceNs: UInt64?
  public var damagedLines = 0
  /// No samples.jsonl: `samples` is the one observation in evidence.json.
  public var samplesFromEvidence = false

  public struct LoadError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  public static func isWatchRun(_ dir: String) -> Bool { Syscalls.readFile(dir + "/watch.json") != nil }

  public static func load(_ dir: String) throws(LoadError) -> WatchRunDir {
    guard let bytes = Syscalls.readFile(dir + "/watch.json") else {
      throw LoadError(description: "\(dir) is not a watch run directory (no watch.json)")
    }
    guard let w = try? JSONParser.parse(bytes: bytes) else { throw LoadError(description: "\(dir)/watch.json is damaged") }
    var samples: [Sample] = []
    var damaged = 0
    if let s = Syscalls.readFile(dir + "/samples.jsonl", limit: 1 << 28) {
      for line in s.split(separator: 10, omittingEmptySubsequences: true) {
        guard let v = try? JSONParser.parse(bytes: Array(line)), let sample = sample(v) else {
          damaged += 1
          continue
        }
        samples.append(sample)
      }
    }
    var snaps: [Snapshot] = []
    for name in Syscalls.listDirectory(dir).sorted() where name.hasPrefix("snapshot-") && name.hasSuffix(".json") {
      guard let b = Syscalls.readFile(dir + "/" + name), let v = try? JSONParser.parse(bytes: b),
        let t = v["t"]?.int
      else { continue }
      snaps.append(Snapshot(file: name, t: UInt64(max(0, t)), reason: v["reason"]?.string ?? "?"))
    }
    var evidenceNs: UInt64? = nil
    var fromEvidence = false
    if let b = Syscalls.readFile(dir + "/evidence.json"), let v = try? JSONParser.parse(bytes: b) {
      evidenceNs = (v["takenAtNs"] ?? v["snapshots"]?.array?.last?["takenAtNs"])?.int.map { UInt64(max(0, $0)) }
      // A watch without --sample still has the deadline snapshot: one
      // observation of every process (names from the verdict), so that its
      // timeline and trace name and show them.
      if samples.isEmpty, let t = evidenceNs, let snap = v["snapshots"]?.array?.last ?? v["processes"].map({ _ in v }) {
        let names = verdictNames(dir)
        samples = [evidenceSample(snap, t: t, names: names)]
        fromEvidence = true
      }
    }
    let startNs = UInt64(max(0, w["startNs"]?.int ?? Int64(samples.first?.t ?? 0)))
    return WatchRunDir(
      dir: dir, command: (w["command"]?.array ?? []).compactMap(\.string), commandPid: Int32(w["commandPid"]?.int ?? 0),
      startNs: startNs, endNs: UInt64(max(0, w["endNs"]?.int ?? Int64(samples.last?.t ?? startNs))),
      outcome: w["outcome"]?.string ?? "?", exitCode: w["exitCode"]?.int.map { Int($0) },
      timeoutMs: w["timeoutMs"]?.int.map { Int($0) }, samples: samples.sorted { $0.t < $1.t },
      snapshots: snaps.sorted { $0.t < $1.t }, evidenceNs: evidenceNs, damagedLines: damaged,
      samplesFromEvidence: fromEvidence)
  }

  /// pid -> name from verdict.json's actors (the names the verdict printed).
  static func verdictNames(_ dir: String) -> [Int32: String] {
    guard let b = Syscalls.readFile(dir + "/verdict.json"), let v = try? JSONParser.parse(bytes: b) else { return [:] }
    var m: [Int32: String] = [:]
    for a in v["actors"]?.array ?? [] {
      if let pid = a["pid"]?.int, let name = a["name"]?.string { m[Int32(pid)] = name }
    }
    return m
  }

  /// The processes and wait edges of one stored kernel snapshot as a sample.
  static func evidenceSample(_ snap: JSONValue, t: UInt64, names: [Int32: String]) -> Sample {
    var waits: [Int32: [WaitState.Wait]] = [:]
    for e in snap["edges"]?.array ?? [] {
      guard let from = e["from"]?.int, let to = e["to"]?.int, let kind = e["kind"]?.string else { continue }
      waits[Int32(from), default: []].append(WaitState.Wait(kind: kind, pid: Int32(to), fd: WaitEdgeFD.fd(json: e)))
    }
    let ps = (snap["processes"]?.array ?? []).compactMap { p -> Process? in
      guard let pid = p["pid"]?.int.map({ Int32($0) }) else { return nil }
      return Process(
        pid: pid, ppid: Int32(p["ppid"]?.int ?? 0), name: names[pid] ?? p["comm"]?.string ?? "pid \(pid)",
        state: WaitState(state: p["state"]?.string ?? "?", syscall: p["syscallName"]?.string, waits: waits[pid] ?? []))
    }
    return Sample(t: t, processes: ps)
  }

  static func sample(_ v: JSONValue) -> Sample? {
    guard let t = v["t"]?.int, let list = v["processes"]?.array else { return nil }
    let ps = list.compactMap { p -> Process? in
      guard let pid = p["pid"]?.int else { return nil }
      let waits = (p["waits"]?.array ?? []).compactMap { w -> WaitState.Wait? in
        guard let to = w["pid"]?.int, let kind = w["kind"]?.string else { return nil }
        return WaitState.Wait(kind: kind, pid: Int32(to), fd: w["fd"]?.int.map { Int32($0) })
      }
      return Process(
        pid: Int32(pid), ppid: Int32(p["ppid"]?.int ?? 0), name: p["name"]?.string ?? "pid \(pid)",
        state: WaitState(state: p["state"]?.string ?? "?", syscall: p["syscall"]?.string, waits: waits))
    }
    return Sample(t: UInt64(max(0, t)), processes: ps)
  }

  /// Each process: first and last sample it was seen in, its parent and
  /// name (the latest), and when it was gone (the first sample after its
  /// last, or nil when the last sample still saw it).
  public struct Sighting: Sendable {
    public var pid: Int32
    public var ppid: Int32
    public var name: String
    public var firstNs: UInt64
    public var lastNs: UInt64
    public var goneNs: UInt64?
  }

  public var sightings: [Sighting] {
    var m: [Int32: Sighting] = [:]
    var order: [Int32] = []
    for (i, s) in samples.enumerated() {
      let next = i + 1 < samples.count ? samples[i + 1] : nil
      for p in s.processes {
        if m[p.pid] == nil {
          m[p.pid] = Sighting(pid: p.pid, ppid: p.ppid, name: p.name, firstNs: s.t, lastNs: s.t, goneNs: nil)
          order.append(p.pid)
        }
        m[p.pid]!.lastNs = s.t
        m[p.pid]!.name = p.name
        m[p.pid]!.goneNs = next.flatMap { n in n.processes.contains { $0.pid == p.pid } ? nil : n.t }
      }
    }
    // The command first, then in order of appearance.
    return order.sorted { a, b in
      a == commandPid ? b != commandPid : (b == commandPid ? false : m[a]!.firstNs < m[b]!.firstNs)
    }.map { m[$0]! }
  }
}
