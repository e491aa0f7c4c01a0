import MiniJSON

/// Chrome's Trace Event Format, which ui.perfetto.dev and chrome://tracing
/// open: one object with `traceEvents` and `displayTimeUnit`. `ts` and
/// `dur` are microseconds since `t0Ns` on CLOCK_MONOTONIC (the clock of
/// probe lines' "t" and of watch samples), written from integer ns with
/// three decimals: exact, small, and events 10 µs apart keep their order.
///
/// Tracks: a process per actor (pid), lane 0 its own thread (tid = pid),
/// lanes 1... its concurrent tasks, and one lane for its kernel wait
/// state (`TraceLane`). Slices are complete events (`X`); flows are `s`/`f`
/// pairs with one id, each end bound to the slice enclosing it.
///
/// Each event is written to its line when added (strings escaped by
/// MiniJSON's one escaper): a depth-5 trace (8,000 events) took 75 ms to
/// print through JSONValue, most of it the doubles' descriptions.
public struct TraceEvents: Sendable {
  struct Row: Sendable {
    var meta: Bool
    var ns: Int64
    var durNs: Int64
    var line: String
  }

  private var rows: [Row] = []
  public let t0Ns: UInt64
  private var nextFlowId: Int64 = 1

  public init(t0Ns: UInt64) { self.t0Ns = t0Ns }

  public var count: Int { rows.count }

  /// ns since t0 (negative before it).
  func rel(_ ns: UInt64) -> Int64 { ns >= t0Ns ? Int64(ns - t0Ns) : -Int64(t0Ns - ns) }

  /// µs with three decimals, from ns.
  static func micros(_ ns: Int64) -> String {
    let a = ns.magnitude
    let frac = a % 1000
    let f = frac < 10 ? "00\(frac)" : (frac < 100 ? "0\(frac)" : "\(frac)")
    return (ns < 0 ? "-" : "") + "\(a / 1000).\(f)"
  }

  static func str(_ s: String) -> String {
    var out = ""
    JSONValue.escape(s, into: &out)
    return out
  }

  private mutating func add(meta: Bool = false, ns: Int64 = 0, durNs: Int64 = -1, _ fields: String) {
    rows.append(Row(meta: meta, ns: ns, durNs: durNs, line: "{" + fields + "}"))
  }

  private static func head(_ ph: String, _ pid: Int32, _ tid: Int64) -> String {
    "\"ph\":\"\(ph)\",\"pid\":\(pid),\"tid\":\(tid)"
  }

  private static func argsField(_ args: [(String, JSONValue)]) -> String {
    args.isEmpty ? "" : ",\"args\":" + JSONValue.object(args).compact
  }

  public mutating func processName(pid: Int32, name: String, sortIndex: Int) {
    let h = Self.head("M", pid, Int64(pid))
    add(meta: true, h + ",\"name\":\"process_name\",\"args\":{\"name\":\(Self.str(name))}")
    add(meta: true, h + ",\"name\":\"process_sort_index\",\"args\":{\"sort_index\":\(sortIndex)}")
  }

  public mutating func threadName(pid: Int32, lane: Int, name: String) {
    let h = Self.head("M", pid, TraceLane.tid(pid: pid, lane: lane))
    add(meta: true, h + ",\"name\":\"thread_name\",\"args\":{\"name\":\(Self.str(name))}")
    add(meta: true, h + ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":\(lane)}")
  }

  public mutating func slice(
    pid: Int32, lane: Int, name: String, cat: String, startNs: UInt64, endNs: UInt64, args: [(String, JSONValue)] = []
  ) {
    let ts = rel(startNs)
    let dur = Int64(max(endNs, startNs) - startNs)
    add(
      ns: ts, durNs: dur,
      Self.head("X", pid, TraceLane.tid(pid: pid, lane: lane)) + ",\"name\":\(Self.str(name)),\"cat\":\(Self.str(cat))"
        + ",\"ts\":\(Self.micros(ts)),\"dur\":\(Self.micros(dur))" + Self.argsField(args))
  }

  /// `scope`: "t" (its track), "p" (its process), "g" (the whole trace).
  public mutating func instant(
    pid: Int32, lane: Int, name: String, cat: String, ns: UInt64, scope: String = "t", args: [(String, JSONValue)] = []
  ) {
    let ts = rel(ns)
    add(
      ns: ts,
      Self.head("i", pid, TraceLane.tid(pid: pid, lane: lane)) + ",\"name\":\(Self.str(name)),\"cat\":\(Self.str(cat))"
        + ",\"ts\":\(Self.micros(ts)),\"s\":\(Self.str(scope))" + Self.argsField(args))
  }

  /// A flow from one track to another: `s` at the start, `f` at the end
  /// (bound to the enclosing slice: "bp":"e"). The caller puts both ends
  /// inside a slice of their lanes.
  public mutating func flow(name: String, cat: String, from: TracePoint, to: TracePoint) {
    let id = nextFlowId
    nextFlowId += 1
    let common = ",\"id\":\(id),\"name\":\(Self.str(name)),\"cat\":\(Self.str(cat))"
    let a = rel(from.ns)
    let b = rel(to.ns)
    add(ns: a, durNs: -2, Self.head("s", from.pid, TraceLane.tid(pid: from.pid, lane: from.lane)) + common + ",\"ts\":\(Self.micros(a))")
    add(ns: b, durNs: -2, Self.head("f", to.pid, TraceLane.tid(pid: to.pid, lane: to.lane)) + ",\"bp\":\"e\"" + common + ",\"ts\":\(Self.micros(b))")
  }

  /// Metadata first, then every event by time (a slice before what starts
  /// inside it at the same ns: longer first; instants and flow ends after
  /// the slices that start with them).
  var sortedRows: [Row] {
    rows.enumerated().sorted { x, y in
      let (a, b) = (x.element, y.element)
      if a.meta != b.meta { return a.meta }
      if a.ns != b.ns { return a.ns < b.ns }
      if a.durNs != b.durNs { return a.durNs > b.durNs }
      return x.offset < y.offset
    }.map(\.element)
  }

  /// The file's text: one event per line (greppable and diffable).
  public var text: String {
    var out = "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"clock\":\"CLOCK_MONOTONIC\",\"t0Ns\":\(t0Ns)},\"traceEvents\":[\n"
    let all = sortedRows
    out.reserveCapacity(all.reduce(out.utf8.count + 4) { $0 + $1.line.utf8.count + 2 })
    for (i, r) in all.enumerated() {
      out += r.line
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
