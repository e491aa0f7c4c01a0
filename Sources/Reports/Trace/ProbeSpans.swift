import Probes

/// One ENTER ... RETURN/FINALLY/CANCELLED span of a probe site in one
/// process: a slice of the trace and a line pair of the timeline.
public struct ProbeSpan: Sendable, Equatable {
  public var pid: Int32
  public var site: String
  public var peer: Int32?
  /// The ENTER's detail (a child's name for `spawn`, a bound for waits).
  public var detail: String?
  public var startNs: UInt64
  public var endNs: UInt64
  /// The event that closed it (the last one when RETURN is followed by
  /// FINALLY); nil when it never closed: it then ends where its process
  /// ended (see ProbeSpans.build) and is marked unfinished.
  public var closedBy: String?
  /// The track of its process it is drawn on (0: the actor's own), so
  /// that slices of one track nest (ProbeSpans.assignLanes).
  public var lane: Int = 0

  public var unfinished: Bool { closedBy == nil }
}

/// Pairs one process's probe events into spans and single events.
///
/// An ENTER opens a span keyed by its site and peer. A closing event (see
/// `closers`) closes the open span of its site whose peer matches (a close
/// without a peer, like `child_target RETURN`, matches any), preferring
/// the one whose ENTER had the same detail (`spawn` ENTER/FINALLY name the
/// child, and two spawns overlap), else the latest opened. A close that
/// finds nothing open extends the last closed span of its site and peer
/// (`portal` RETURN then FINALLY, `actor_main` FINALLY then RETURN).
public enum ProbeSpans {
  /// Events that end a span. EOF, RAISE, SPIN stay single events inside it.
  public static let closers: Set<String> = [
    ProbeKind.returned, ProbeKind.finally, ProbeKind.cancelled, "NO_ACK", "FAILED", "LOST",
  ]

  /// `events`: one process's events in time order; `endNs`: where its
  /// unfinished spans end (its last event, its reaping, or the deadline).
  public static func build(_ events: [ProbeEvent], endNs: UInt64) -> (spans: [ProbeSpan], single: [ProbeEvent]) {
    var spans: [ProbeSpan] = []
    var open: [Int] = []  // indexes into spans, in opening order
    var single: [ProbeEvent] = []
    var closed: [Int] = []  // indexes into spans, in closing order
    for e in events {
      if e.event == ProbeKind.enter {
        spans.append(ProbeSpan(pid: e.pid, site: e.site, peer: e.peer, detail: e.detail, startNs: e.t, endNs: e.t))
        open.append(spans.count - 1)
        continue
      }
      guard closers.contains(e.event) else {
        single.append(e)
        continue
      }
      let candidates = open.filter { spans[$0].site == e.site && (e.peer == nil || spans[$0].peer == e.peer) }
      let pick = candidates.last(where: { e.detail != nil && spans[$0].detail == e.detail }) ?? candidates.last
      if let i = pick {
        spans[i].endNs = e.t
        spans[i].closedBy = e.event
        open.removeAll { $0 == i }
        closed.append(i)
      } else if let i = closed.last(where: { spans[$0].site == e.site && (e.peer == nil || spans[$0].peer == e.peer) }) {
        spans[i].endNs = e.t
        spans[i].closedBy = e.event
      } else {
        single.append(e)
      }
    }
    for i in open { spans[i].endNs = max(spans[i].startNs, endNs) }
    return (spans, single)
  }

  /// Puts each span on the first lane of its process where it nests
  /// (contains or is contained by, never partly overlaps) every span
  /// already there. Concurrent tasks of one actor (two children spawned
  /// at once, whose spawns end in another order) get lanes 1, 2, ...
  public static func assignLanes(_ spans: inout [ProbeSpan], firstLane: Int = 0) {
    let order = spans.indices.sorted {
      spans[$0].startNs != spans[$1].startNs ? spans[$0].startNs < spans[$1].startNs : spans[$0].endNs > spans[$1].endNs
    }
    var stacks: [[UInt64]] = []  // per lane: ends of the spans still open at the current start
    for i in order {
      let s = spans[i]
      var placed = false
      for l in stacks.indices {
        while let top = stacks[l].last, top <= s.startNs { stacks[l].removeLast() }
        if stacks[l].last.map({ $0 >= s.endNs }) ?? true {
          stacks[l].append(s.endNs)
          spans[i].lane = firstLane + l
          placed = true
          break
        }
      }
      if !placed {
        stacks.append([s.endNs])
        spans[i].lane = firstLane + stacks.count - 1
      }
    }
  }
}
