import Diagnosis
import MiniJSON
import Probes
import Reports
import Testing

/// The Perfetto trace of stored runs, process-free: its structure (what
/// ui.perfetto.dev needs to draw it right) and the cascade's flows.
@Suite(.timeLimit(.minutes(1)))
struct TraceExportTests {
  /// What a trace must hold, as a list of problems (empty: fine): every
  /// process named; per track, slices nest (no partial overlap) and ts
  /// never goes back; every flow has one start and one end, each inside a
  /// slice of its track.
  static func problems(_ trace: JSONValue) -> [String] {
    var out: [String] = []
    guard let events = trace["traceEvents"]?.array, trace["displayTimeUnit"]?.string != nil else {
      return ["no traceEvents or displayTimeUnit"]
    }
    var named = Set<Int64>()
    struct Track: Hashable { var pid: Int64; var tid: Int64 }
    var slices: [Track: [(Double, Double, String)]] = [:]
    var lastTs: [Track: Double] = [:]
    var flowEnds: [Int64: [(String, Track, Double)]] = [:]
    for e in events {
      guard let ph = e["ph"]?.string, let pid = e["pid"]?.int, let tid = e["tid"]?.int else {
        out.append("event without ph/pid/tid: \(e.compact)")
        continue
      }
      if ph == "M" {
        if e["name"]?.string == "process_name", e["args"]?["name"]?.string?.isEmpty == false { named.insert(pid) }
        continue
      }
      let track = Track(pid: pid, tid: tid)
      guard let ts = e["ts"]?.double else {
        out.append("no ts: \(e.compact)")
        continue
      }
      if let last = lastTs[track], ts < last { out.append("ts goes back on \(pid)/\(tid): \(ts) after \(last)") }
      lastTs[track] = ts
      switch ph {
      case "X":
        guard let dur = e["dur"]?.double, dur >= 0 else {
          out.append("slice without dur: \(e.compact)")
          continue
        }
        slices[track, default: []].append((ts, ts + dur, e["name"]?.string ?? ""))
      case "s", "f":
        guard let id = e["id"]?.int else {
          out.append("flow without id")
          continue
        }
        flowEnds[id, default: []].append((ph, track, ts))
      case "i": break
      default: out.append("unexpected ph \(ph)")
      }
    }
    let eps = 0.0005
    for (track, list) in slices {
      if !named.contains(track.pid) { out.append("process \(track.pid) has no process_name") }
      var stack: [(Double, Double, String)] = []
      for s in list.sorted(by: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 > $1.1 }) {
        while let top = stack.last, top.1 <= s.0 + eps { stack.removeLast() }
        if let top = stack.last, s.1 > top.1 + eps {
          out.append("\(track.pid)/\(track.tid): '\(s.2)' [\(s.0), \(s.1)] overlaps '\(top.2)' [\(top.0), \(top.1)]")
        }
        stack.append(s)
      }
    }
    for (id, ends) in flowEnds {
      guard ends.count == 2, ends.contains(where: { $0.0 == "s" }), ends.contains(where: { $0.0 == "f" }) else {
        out.append("flow \(id) has ends \(ends.map(\.0))")
        continue
      }
      for (_, track, ts) in ends where !(slices[track] ?? []).contains(where: { $0.0 - eps <= ts && ts <= $0.1 + eps }) {
        out.append("flow \(id) end at \(ts) on \(track.pid)/\(track.tid) is in no slice")
      }
    }
    return out
  }

  /// Flows as (kind, from pid, to pid).
  static func flows(_ trace: JSONValue) -> [(String, Int64, Int64)] {
    let events = trace["traceEvents"]?.array ?? []
    var starts: [Int64: (String, Int64)] = [:]
    var ends: [Int64: Int64] = [:]
    for e in events {
      guard let id = e["id"]?.int, let pid = e["pid"]?.int else { continue }
      if e["ph"]?.string == "s" { starts[id] = (e["cat"]?.string ?? "", pid) }
      if e["ph"]?.string == "f" { ends[id] = pid }
    }
    return starts.compactMap { id, s in ends[id].map { (s.0, s.1, $0) } }
  }

  static func runTrace(_ name: String) throws -> (JSONValue, Verdict) {
    let dir = StoredRun.runs + "/" + name
    let files = try RunFiles.load(dir)
    let log = try ProbeLog.read(runDir: dir)
    let v = VerdictBuilder.build(files, log: log)
    // Through the file's text, as ui.perfetto.dev reads it.
    return (try JSONParser.parse(RunTrace.build(files, log: log, verdict: v).text), v)
  }

  @Test(arguments: ["fault-ignore-cancel", "clean-spawn", "fault-eof-spin", "fault-forkserver-serial", "fault-boot-death",
    "scenario-ignore-cancel", "fault-never-exit"])
  func storedRunTraceIsWellFormed(run: String) throws {
    let (trace, v) = try Self.runTrace(run)
    #expect(Self.problems(trace) == [])
    let names = (trace["traceEvents"]?.array ?? []).filter { $0["name"]?.string == "process_name" }
    for a in v.actors {
      #expect(names.contains { $0["pid"]?.int == Int64(a.pid) && ($0["args"]?["name"]?.string ?? "").hasPrefix(a.name) },
        "\(a.name) \(a.pid) is not named")
    }
  }

  @Test func knownRunHasItsSpawnCancelAndErrorFlows() throws {
    let (trace, _) = try Self.runTrace("fault-ignore-cancel")
    let f = Self.flows(trace)
    func has(_ kind: String, _ from: Int64, _ to: Int64) -> Bool { f.contains { $0 == (kind, from, to) } }
    // The supervisor spawns root; root its spawners; spawner_0 its errorers.
    #expect(has("spawn", 12141, 12175))
    #expect(has("spawn", 12175, 12176) && has("spawn", 12175, 12177))
    #expect(has("spawn", 12176, 12179) && has("spawn", 12176, 12180))
    // Cancel requests reach the children that entered cancel, the stubborn one too.
    #expect(has("cancel", 12176, 12180) && has("cancel", 12176, 12179) && has("cancel", 12175, 12176))
    // Errors go up: an errorer to its spawner, a spawner's MultiError to root, root's to the supervisor.
    #expect(has("error", 12180, 12176) && has("error", 12177, 12175) && has("error", 12175, 12141))
    #expect(!f.contains { $0.0 == "error" && $0.1 == 12179 }, "the stubborn errorer never reported")
    #expect(f.count == 19)
  }

  @Test func unfinishedSpansEndAtTheProcessEndAndSaySo() throws {
    let (trace, _) = try Self.runTrace("fault-ignore-cancel")
    let slices = (trace["traceEvents"]?.array ?? []).filter { $0["ph"]?.string == "X" && $0["pid"]?.int == 12179 }
    let cancel = try #require(slices.first { $0["name"]?.string == "cancel (unfinished)" })
    #expect(cancel["args"]?["unfinished"]?.bool == true)
    // It ends where its parent reaped it (after the SIGTERM), not at the run's end.
    let end = (cancel["ts"]?.double ?? 0) + (cancel["dur"]?.double ?? 0)
    #expect(end > 4_500_000 && end < 4_570_000)
    // The stall snapshots show its wait state on its kernel lane.
    #expect(slices.contains { $0["cat"]?.string == "wait" && ($0["name"]?.string ?? "").hasPrefix("S epoll_wait") })
  }

  @Test func spansPairPerSiteAndPeerAndNestOnLanes() {
    func e(_ t: UInt64, _ site: String, _ ev: String, peer: Int32? = nil, _ detail: String? = nil) -> ProbeEvent {
      ProbeEvent(t: t, pid: 1, actor: "a", site: site, event: ev, peer: peer, detail: detail)
    }
    // Two spawns whose ends come in the other order, portal RETURN then FINALLY, a wait that never returns.
    let events = [
      e(10, "spawn", "ENTER", "x"), e(11, "spawn", "ENTER", "y"), e(20, "portal", "ENTER", peer: 7),
      e(30, "spawn", "FINALLY", "x"), e(40, "portal", "RETURN", peer: 7), e(41, "portal", "FINALLY", peer: 7),
      e(50, "spawn", "FINALLY", "y"), e(60, "wait_for_no_more_peers", "ENTER", "bound=none"), e(61, "msg_loop", "EOF"),
    ]
    var (spans, single) = ProbeSpans.build(events, endNs: 100)
    #expect(spans.map { "\($0.site) \($0.detail ?? "") \($0.startNs)-\($0.endNs)" } == [
      "spawn x 10-30", "spawn y 11-50", "portal  20-41", "wait_for_no_more_peers bound=none 60-100",
    ])
    #expect(spans[2].closedBy == "FINALLY" && spans[3].unfinished)
    #expect(single.map(\.event) == ["EOF"])
    ProbeSpans.assignLanes(&spans)
    // spawn x [10,30] and spawn y [11,50] overlap partly: two lanes.
    #expect(spans[0].lane != spans[1].lane)
  }

  @Test func watchRunDirTrace() throws {
    let w = try WatchRunDir.load(StoredRun.runs + "/watch-rundir")
    #expect(w.damagedLines == 1 && w.samples.count == 6 && w.snapshots.count == 1)
    let trace = try JSONParser.parse(WatchTrace.build(w).text)
    #expect(Self.problems(trace) == [])
    let events = trace["traceEvents"]?.array ?? []
    for pid: Int64 in [5000, 5001, 5002, 5003] {
      #expect(events.contains { $0["name"]?.string == "process_name" && $0["pid"]?.int == pid })
    }
    // The worker ran, then blocked reading from the helper: two wait-state slices.
    let worker = events.filter { $0["pid"]?.int == 5001 && $0["cat"]?.string == "wait" }.map { $0["name"]?.string ?? "" }
    #expect(worker == ["R -", "S read → waits-data-from 5002 (fd 5)"])
    // The short-lived child: from its first sighting (600 ms) to the sample that missed it (1600 ms).
    let short = try #require(events.first { $0["pid"]?.int == 5003 && $0["cat"]?.string == "process" })
    #expect(short["ts"]?.double == 600_000 && short["dur"]?.double == 1_000_000)
    let f = Self.flows(trace)
    #expect(Set(f.map { "\($0.1)>\($0.2)" }) == ["5000>5001", "5001>5002", "5000>5003"])
    #expect(events.contains { $0["cat"]?.string == "snapshot" && $0["ts"]?.double == 1_500_000 })
  }

  @Test func waitStatesMergeIdenticalObservations() {
    let a = WaitState(state: "S", syscall: "read", waits: [.init(kind: "waits-data-from", pid: 2, fd: 3)])
    let b = WaitState(state: "R", syscall: nil, waits: [])
    let m = WaitStates.intervals([(10, [1: a]), (20, [1: a]), (30, [1: b]), (40, [:])], endNs: 50)
    #expect(m[1]?.map { "\($0.state.state) \($0.startNs)-\($0.endNs) x\($0.count)" } == ["S 10-30 x2", "R 30-40 x1"])
  }
}
