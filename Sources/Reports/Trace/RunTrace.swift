import Diagnosis
import MiniJSON
import Probes
import SystemCore

/// The Perfetto trace of a run directory (`run`, `nested-multierrors`,
/// each `compare` trial): built from the files after the verdict, so the
/// run itself never pays for it (RUN-DIR/trace.json; `report RUN-DIR
/// --format perfetto`).
public enum RunTrace {
  /// Writes RUN-DIR/trace.json from the files the verdict was built from
  /// (`DiagnosedRun.run`'s afterVerdict); returns why not (the run keeps
  /// its verdict).
  @discardableResult
  public static func write(_ files: RunFiles, log: ProbeLog, verdict: Verdict) -> String? {
    do {
      try Syscalls.writeFile(files.runDir + "/trace.json", build(files, log: log, verdict: verdict).text)
      return nil
    } catch { return "\(error)" }
  }

  public static func build(_ files: RunFiles, log: ProbeLog, verdict v: Verdict) -> TraceEvents {
    let byPid = log.byPid
    let sup = files.supervisor
    let supPid = sup?["supervisorPid"]?.int.map { Int32($0) }
    let startNs = sup?["startNs"]?.int.map { UInt64($0) } ?? log.events.first?.t ?? 0
    let t0 = min(startNs, log.events.first?.t ?? startNs)
    let runEnd = max(sup?["endNs"]?.int.map { UInt64($0) } ?? 0, log.events.last?.t ?? 0)
    var trace = TraceEvents(t0Ns: t0)

    // Processes in tree order: the supervisor, the actors, then the rest (fork server).
    var order: [Int32] = supPid.map { [$0] } ?? []
    order += v.actors.map(\.pid).filter { !order.contains($0) }
    order += byPid.keys.sorted().filter { !order.contains($0) }
    let reapedAt = reapTimes(log.events)
    var lanesOf: [Int32: [ProbeSpan]] = [:]
    let actorName = Dictionary(v.actors.map { ($0.pid, $0.name) }, uniquingKeysWith: { a, _ in a })
    func who(_ p: Int32) -> String {
      p == supPid ? "tractor-diag \(p)" : actorName[p].map { "\($0) \(p)" } ?? "pid \(p)"
    }
    for (index, pid) in order.enumerated() {
      let events = byPid[pid] ?? []
      let name = pid == supPid ? "tractor-diag (supervisor)" : (actorName[pid] ?? events.last?.actor ?? "pid \(pid)")
      trace.processName(pid: pid, name: "\(name) \(pid)", sortIndex: index)
      guard let first = events.first, let last = events.last else { continue }
      let exited = events.contains { $0.site == "process" && $0.event == ProbeKind.exit }
      let end = exited || pid == supPid ? last.t : max(last.t, reapedAt[pid] ?? runEnd)
      var (spans, single) = ProbeSpans.build(events, endNs: end)
      // The actor's lifetime: lane 0's outer slice, so every flow end and
      // single probe on lane 0 has a slice around it.
      let life = ProbeSpan(
        pid: pid, site: "actor", peer: nil, detail: name, startNs: first.t, endNs: end,
        closedBy: exited ? ProbeKind.exit : (pid == supPid ? last.event : nil))
      spans.insert(life, at: 0)
      ProbeSpans.assignLanes(&spans)
      lanesOf[pid] = spans
      let laneCount = min((spans.map(\.lane).max() ?? 0) + 1, TraceLane.maxTaskLane)
      for l in 0..<laneCount { trace.threadName(pid: pid, lane: l, name: l == 0 ? name : "\(name) task \(l)") }
      for s in spans {
        var args: [(String, JSONValue)] = []
        if let d = s.detail { args.append(("detail", .string(d))) }
        if let p = s.peer { args.append(("peer", .string(who(p)))) }
        args.append(s.unfinished ? ("unfinished", true) : ("closedBy", .string(s.closedBy ?? "")))
        let lane = min(s.lane, TraceLane.maxTaskLane)
        // "(unfinished)" in the name too: seen without clicking the slice.
        let name = sliceName(s, who) + (s.unfinished ? " (unfinished)" : "")
        trace.slice(pid: pid, lane: lane, name: name, cat: "probe", startNs: s.startNs, endNs: s.endNs, args: args)
      }
      for e in single {
        var args: [(String, JSONValue)] = []
        if let d = e.detail { args.append(("detail", .string(d))) }
        if let p = e.peer { args.append(("peer", .string(who(p)))) }
        trace.instant(pid: pid, lane: 0, name: "\(e.site) \(e.event)", cat: "probe", ns: e.t, args: args)
      }
    }

    for f in TraceFlows.build(byPid) {
      let from = TracePoint(pid: f.fromPid, lane: lane(at: f.fromNs, in: lanesOf[f.fromPid]), ns: f.fromNs)
      let to = TracePoint(pid: f.toPid, lane: lane(at: f.toNs, in: lanesOf[f.toPid]), ns: f.toNs)
      trace.flow(name: f.label.isEmpty ? f.kind.rawValue : "\(f.kind.rawValue) \(f.label)", cat: f.kind.rawValue, from: from, to: to)
    }

    addWaitStates(&trace, evidence: files.evidence, runEnd: runEnd, known: Set(order), globalPid: supPid ?? order.first ?? 0, v)
    if sup?["timedOut"]?.bool == true {
      trace.instant(
        pid: supPid ?? order.first ?? 0, lane: 0, name: "deadline (\(files.timeoutMs) ms)", cat: "deadline",
        ns: startNs + UInt64(max(0, files.timeoutMs)) * 1_000_000, scope: "g")
    }
    return trace
  }

  static func sliceName(_ s: ProbeSpan, _ who: (Int32) -> String) -> String {
    if s.site == "actor" { return s.detail ?? "actor" }
    if s.site == "spawn", let d = s.detail { return "spawn \(d)" }
    if let p = s.peer { return "\(s.site) \(who(p))" }
    return s.site
  }

  /// The lane of the span starting at `ns` (a flow leaves or lands at a
  /// span's start), else lane 0, whose lifetime slice covers the process.
  static func lane(at ns: UInt64, in spans: [ProbeSpan]?) -> Int {
    min(spans?.first { $0.startNs == ns && $0.site != "actor" }?.lane ?? 0, TraceLane.maxTaskLane)
  }

  /// When each child's parent reaped it (`nursery`/`forkserver` REAPED).
  static func reapTimes(_ events: [ProbeEvent]) -> [Int32: UInt64] {
    var m: [Int32: UInt64] = [:]
    for e in events where e.event == "REAPED" && (e.site == "nursery" || e.site == "forkserver") {
      if let c = e.peer, m[c] == nil { m[c] = e.t }
    }
    return m
  }

  /// evidence.json's snapshots (each stall, the deadline): each process's
  /// wait state as slices on its wait lane, and one instant per snapshot.
  static func addWaitStates(
    _ trace: inout TraceEvents, evidence: JSONValue?, runEnd: UInt64, known: Set<Int32>, globalPid: Int32, _ v: Verdict
  ) {
    guard let evidence else { return }
    let snaps = evidence["snapshots"]?.array ?? [evidence]
    var observations: [(t: UInt64, states: [Int32: WaitState])] = []
    var names: [Int32: String] = [:]
    for s in snaps {
      guard let t = s["takenAtNs"]?.int.map({ UInt64($0) }) else { continue }
      let edges = s["edges"]?.array ?? []
      var states: [Int32: WaitState] = [:]
      for p in s["processes"]?.array ?? [] {
        guard let pid = p["pid"]?.int.map({ Int32($0) }) else { continue }
        names[pid] = p["comm"]?.string
        let waits = edges.filter { $0["from"]?.int == Int64(pid) }.compactMap { e -> WaitState.Wait? in
          guard let to = e["to"]?.int, let kind = e["kind"]?.string else { return nil }
          return WaitState.Wait(kind: kind, pid: Int32(to), fd: WaitEdgeFD.fd(json: e))
        }
        states[pid] = WaitState(state: p["state"]?.string ?? "?", syscall: p["syscallName"]?.string, waits: waits)
      }
      observations.append((t, states))
      let note = s["notes"]?.array?.first?.string ?? "kernel snapshot"
      trace.instant(pid: globalPid, lane: 0, name: note, cat: "snapshot", ns: t, scope: "g")
    }
    var index = known.count
    for (pid, list) in WaitStates.intervals(observations, endNs: runEnd).sorted(by: { $0.key < $1.key }) {
      if !known.contains(pid) {
        trace.processName(pid: pid, name: "\(names[pid] ?? "pid") \(pid)", sortIndex: index)
        index += 1
      }
      trace.threadName(pid: pid, lane: TraceLane.wait, name: "kernel wait state")
      for i in list {
        trace.slice(
          pid: pid, lane: TraceLane.wait, name: i.state.name, cat: "wait", startNs: i.startNs, endNs: i.endNs,
          args: i.state.args + [("snapshots", .int(Int64(i.count)))])
      }
    }
  }
}
