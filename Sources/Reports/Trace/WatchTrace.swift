import MiniJSON
import SystemCore

/// The Perfetto trace of a watched command (`watch --run-dir DIR`), from
/// its samples: a process per pid, its lifetime (first to last sighting)
/// with its wait states inside (runs of identical samples), an instant
/// per snapshot, and a spawn flow from each parent to its child's first
/// sighting. The watch calls `write(runDir:)` once at its end.
public enum WatchTrace {
  /// Writes DIR/trace.json; returns why not.
  @discardableResult
  public static func write(runDir: String) -> String? {
    do {
      let w = try WatchRunDir.load(runDir)
      try Syscalls.writeFile(runDir + "/trace.json", build(w).text)
      return nil
    } catch { return "\(error)" }
  }

  public static func build(_ w: WatchRunDir) -> TraceEvents {
    var trace = TraceEvents(t0Ns: w.startNs)
    let sightings = w.sightings
    let end = max(w.endNs, w.samples.last?.t ?? 0)
    let observations = w.samples.map { s in
      (t: s.t, states: Dictionary(s.processes.map { ($0.pid, $0.state) }, uniquingKeysWith: { a, _ in a }))
    }
    let intervals = WaitStates.intervals(observations, endNs: end)
    var alive: [Int32: (UInt64, UInt64)] = [:]
    for (index, p) in sightings.enumerated() {
      let gone = p.goneNs ?? end
      alive[p.pid] = (p.firstNs, gone)
      trace.processName(pid: p.pid, name: "\(p.name) \(p.pid)", sortIndex: index)
      trace.threadName(pid: p.pid, lane: 0, name: p.name)
      trace.slice(
        pid: p.pid, lane: 0, name: p.name, cat: "process", startNs: p.firstNs, endNs: gone,
        args: [("ppid", .int(Int64(p.ppid))), ("gone", .bool(p.goneNs != nil))])
      for i in intervals[p.pid] ?? [] {
        trace.slice(
          pid: p.pid, lane: 0, name: i.state.name, cat: "wait", startNs: i.startNs, endNs: min(i.endNs, gone),
          args: i.state.args + [("samples", .int(Int64(i.count)))])
      }
    }
    // A parent seen alive when its child first appeared.
    for p in sightings {
      guard let (from, to) = alive[p.ppid], from <= p.firstNs, p.firstNs <= to, p.ppid != p.pid else { continue }
      trace.flow(
        name: "spawn \(p.name)", cat: "spawn", from: TracePoint(pid: p.ppid, lane: 0, ns: p.firstNs),
        to: TracePoint(pid: p.pid, lane: 0, ns: p.firstNs))
    }
    let globalPid = sightings.first?.pid ?? w.commandPid
    for s in w.snapshots {
      trace.instant(
        pid: globalPid, lane: 0, name: "snapshot (\(s.reason))", cat: "snapshot", ns: s.t, scope: "g",
        args: [("file", .string(s.file))])
    }
    if let e = w.evidenceNs {
      trace.instant(pid: globalPid, lane: 0, name: "\(w.outcome) snapshot", cat: "snapshot", ns: e, scope: "g")
    }
    trace.instant(pid: globalPid, lane: 0, name: "end: \(w.outcome)", cat: "end", ns: w.endNs, scope: "g")
    return trace
  }
}
