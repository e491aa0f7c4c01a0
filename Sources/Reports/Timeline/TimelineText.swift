/// The aligned lines of a timeline (runs and watched commands): relative
/// ms, the process (name and pid, "+N" when N more did the same), what
/// happened.
public enum TimelineText {
  /// One event before folding; `verb` is its folding key (with what the
  /// caller adds: role and depth, or the process name).
  public struct Item: Sendable {
    public var t: UInt64
    public var pid: Int32
    public var verb: String
    public var text: String
    /// The text of a line this item is folded into with others (no
    /// particulars of one process: "cancel → a child: ack").
    public var summary: String
    public var foldable = true

    public init(t: UInt64, pid: Int32, verb: String, text: String, summary: String? = nil, foldable: Bool = true) {
      self.t = t
      self.pid = pid
      self.verb = verb
      self.text = text
      self.summary = summary ?? text
      self.foldable = foldable
    }
  }

  /// Folds each item into the open group of its key when it comes within
  /// `window` ns of the group's last item (a wave of one event through one
  /// level of the tree is one line); a group keeps its first time.
  public static func fold(_ items: [Item], key: (Item) -> String, window: UInt64) -> [Line] {
    var lines: [Line] = []
    var summaries: [String] = []
    var open: [String: Int] = [:]
    for i in items {
      let k = key(i)
      if i.foldable, let g = open[k], i.t - lines[g].lastT <= window {
        if lines[g].pids.insert(i.pid).inserted { lines[g].more += 1 }
        lines[g].text = summaries[g]
        lines[g].events += 1
        lines[g].lastT = i.t
        continue
      }
      var l = Line(t: i.t, lastT: i.t, pid: i.pid, text: i.text)
      l.pids = [i.pid]
      lines.append(l)
      summaries.append(i.summary)
      if i.foldable { open[k] = lines.count - 1 } else { open[k] = nil }
    }
    return lines
  }

  public struct Line: Sendable {
    public var t: UInt64
    public var lastT: UInt64
    public var pid: Int32
    public var text: String
    /// Processes folded into this line besides `pid`.
    public var more = 0
    /// Events folded into this line (several of one process count once in `more`).
    public var events = 1
    var pids: Set<Int32> = []

    public init(t: UInt64, lastT: UInt64, pid: Int32, text: String) {
      self.t = t
      self.lastT = lastT
      self.pid = pid
      self.text = text
    }
  }

  public static func ms(_ ns: UInt64) -> String {
    let v = Double(ns) / 1e6
    let r = (v * 100).rounded() / 100
    var s = String(r)
    if let dot = s.firstIndex(of: ".") {
      let decimals = s.distance(from: dot, to: s.endIndex) - 1
      if decimals < 2 { s += String(repeating: "0", count: 2 - decimals) }
    }
    return s
  }

  public static func render(_ lines: [Line], t0: UInt64, name: (Int32) -> String, title: String) -> String {
    let suffix = lines.map { $0.more > 0 ? " +\($0.more)" : "" }
    let nameW = min(44, max(8, (zip(lines, suffix).map { name($0.pid).count + $1.count }.max() ?? 8) + 1))
    let who = zip(lines, suffix).map { l, s in
      let n = name(l.pid)
      let room = nameW - 1 - s.count
      return (n.count > room ? String(n.prefix(max(1, room - 1))) + "…" : n) + s
    }
    let pidW = max(7, (lines.map { String($0.pid).count + ($0.more > 0 ? 1 : 0) }.max() ?? 6) + 1)
    var out = title + "\n" + "ms".leftPadded(10) + "  " + "process".padded(nameW) + "pid".padded(pidW) + "event\n"
    for (l, w) in zip(lines, who) {
      let t = ms(l.t >= t0 ? l.t - t0 : 0)
      var text = l.text
      let until = l.lastT > l.t ? ", to \(ms(l.lastT - t0)) ms" : ""
      if l.more > 0 {
        text += " (\(l.more + 1) processes\(until))"
      } else if l.events > 1 {
        text += " (×\(l.events)\(until))"
      }
      out += t.leftPadded(10) + "  " + w.padded(nameW) + (String(l.pid) + (l.more > 0 ? "+" : "")).padded(pidW) + text + "\n"
    }
    return out
  }
}
