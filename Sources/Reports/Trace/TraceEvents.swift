import MiniJSON

/// Chrome's Trace Event Format, which ui.perfetto.dev and chrome://tracing
/// open: one object with `traceEvents` and `displayTimeUnit`. `ts` and
/// `dur` are microseconds since `t0Ns` on CLOCK_MONOTONIC (the clock of
/// probe lines' "t" and of watch samples), with ns precision, so that
/// numbers stay small and events 10 µs apart keep their order.
///
/// Tracks: a process per actor (pid), lane 0 its own thread (tid = pid),
/// lanes 1... its concurrent tasks, and one lane for its kernel wait
/// state (`TraceLane`). Slices are complete events (`X`); flows are `s`/`f`
/// pairs with one id, each end bound to the slice enclosing it.
public struct TraceEvents: Sendable {
  public private(set) var events: [JSONValue] = []
  public let t0Ns: UInt64
  private var nextFlowId: Int64 = 1

  public init(t0Ns: UInt64) { self.t0Ns = t0Ns }

  /// µs since t0, ns precision.
  public func ts(_ ns: UInt64) -> Double {
    ns >= t0Ns ? Double(ns - t0Ns) / 1000 : -Double(t0Ns - ns) / 1000
  }

  public mutating func processName(pid: Int32, name: String, sortIndex: Int) {
    events.append(["ph": "M", "pid": .int(Int64(pid)), "tid": .int(Int64(pid)), "name": "process_name", "args": ["name": .string(name)]])
    events.append([
      "ph": "M", "pid": .int(Int64(pid)), "tid": .int(Int64(pid)), "name": "process_sort_index",
      "args": ["sort_index": .int(Int64(sortIndex))],
    ])
  }

  public mutating func threadName(pid: Int32, lane: Int, name: String) {
    let tid = TraceLane.tid(pid: pid, lane: lane)
    events.append(["ph": "M", "pid": .int(Int64(pid)), "tid": .int(tid), "name": "thread_name", "args": ["name": .string(name)]])
    events.append([
      "ph": "M", "pid": .int(Int64(pid)), "tid": .int(tid), "name": "thread_sort_index",
      "args": ["sort_index": .int(Int64(lane))],
    ])
  }

  public mutating func slice(
    pid: Int32, lane: Int, name: String, cat: String, startNs: UInt64, endNs: UInt64, args: [(String, JSONValue)] = []
  ) {
    var e: [(String, JSONValue)] = [
      ("ph", "X"), ("pid", .int(Int64(pid))), ("tid", .int(TraceLane.tid(pid: pid, lane: lane))), ("name", .string(name)),
      ("cat", .string(cat)), ("ts", .double(ts(startNs))), ("dur", .double(Double(max(endNs, startNs) - startNs) / 1000)),
    ]
    if !args.isEmpty { e.append(("args", .object(args))) }
    events.append(.object(e))
  }

  /// `scope`: "t" (its track), "p" (its process), "g" (the whole trace).
  public mutating func instant(
    pid: Int32, lane: Int, name: String, cat: String, ns: UInt64, scope: String = "t", args: [(String, JSONValue)] = []
  ) {
    var e: [(String, JSONValue)] = [
      ("ph", "i"), ("pid", .int(Int64(pid))), ("tid", .int(TraceLane.tid(pid: pid, lane: lane))), ("name", .string(name)),
      ("cat", .string(cat)), ("ts", .double(ts(ns))), ("s", .string(scope)),
    ]
    if !args.isEmpty { e.append(("args", .object(args))) }
    events.append(.object(e))
  }

  /// A flow from one track to another: `s` at the start, `f` at the end
  /// (bound to the enclosing slice: "bp":"e"). The caller puts both ends
  /// inside a slice of their lanes.
  public mutating func flow(name: String, cat: String, from: TracePoint, to: TracePoint) {
    let id = nextFlowId
    nextFlowId += 1
    events.append([
      "ph": "s", "id": .int(id), "pid": .int(Int64(from.pid)), "tid": .int(TraceLane.tid(pid: from.pid, lane: from.lane)),
      "name": .string(name), "cat": .string(cat), "ts": .double(ts(from.ns)),
    ])
    events.append([
      "ph": "f", "bp": "e", "id": .int(id), "pid": .int(Int64(to.pid)), "tid": .int(TraceLane.tid(pid: to.pid, lane: to.lane)),
      "name": .string(name), "cat": .string(cat), "ts": .double(ts(to.ns)),
    ])
  }

  /// Metadata first, then every event by time (a slice before what starts
  /// inside it at the same µs: longer first; flow ends after their slice).
  public var sorted: [JSONValue] {
    func key(_ e: JSONValue) -> (Int, Double, Double) {
      let meta = e["ph"]?.string == "M"
      return (meta ? 0 : 1, e["ts"]?.double ?? 0, -(e["dur"]?.double ?? -1))
    }
    let keyed = events.enumerated().map { (key($0.element), $0.offset, $0.element) }
    return keyed.sorted { a, b in a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }.map(\.2)
  }

  public var json: JSONValue {
    ["traceEvents": .array(sorted), "displayTimeUnit": "ms", "otherData": ["clock": "CLOCK_MONOTONIC", "t0Ns": .int(Int64(t0Ns))]]
  }

  /// The file's text: one event per line (a depth-5 trace is ~2 MB; one
  /// line per event keeps it greppable and diffable).
  public var text: String {
    var out = "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"clock\":\"CLOCK_MONOTONIC\",\"t0Ns\":\(t0Ns)},\"traceEvents\":[\n"
    let all = sorted
    for (i, e) in all.enumerated() {
      out += e.compact
      out += i + 1 < all.count ? ",\n" : "\n"
    }
    return out + "]}\n"
  }
}

/// One end of a flow: a process, its lane, a time.
public struct TracePoint: Sendable, Equatable {
  public var pid: Int32
  public var lane: Int
  public var ns: UInt64

  public init(pid: Int32, lane: Int, ns: UInt64) {
    self.pid = pid
    self.lane = lane
    self.ns = ns
  }
}

/// Thread ids of a process's lanes. Lane 0 is the process's own thread
/// (tid = pid); lane k its k-th concurrent task (pid + k * 10^7: above any
/// pid, as pid_max is at most 2^22); `wait` its kernel wait state.
public enum TraceLane {
  public static let wait = 200
  public static let maxTaskLane = wait - 1

  public static func tid(pid: Int32, lane: Int) -> Int64 {
    Int64(pid) + Int64(lane) * 10_000_000
  }
}
