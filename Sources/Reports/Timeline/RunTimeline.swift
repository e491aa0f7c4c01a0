import Diagnosis
import MiniJSON
import Probes

/// `report RUN-DIR --timeline`: the cascade in time order, one line per
/// meaningful event (spawned, up, error raised and relayed, cancel sent
/// and received, teardown waits, kills, exit), the way a person reads
/// tractor's logs:
///
///        ms  actor                          pid    event
///      2.81  root                           13353  up (root)
///      6.35  spawner_0_depth_0_errorer_0 +3 13364+ raised AssertionError … (4 actors, to 7.10 ms)
///
/// A wait that ended is one line (entered, how long, how it ended). The
/// same event of actors of one role and depth within a short window is
/// one line ("+N"): a depth-3 tree (63 actors) fits about a screen. A
/// stuck actor's events and kills, missing acks and deaths are never
/// folded.
public enum RunTimeline {
  typealias Item = TimelineText.Item

  public static func render(_ log: ProbeLog, verdict v: Verdict, supervisor: Int32?, startNs: UInt64?) -> String {
    let byPid = log.byPid
    let t0 = startNs ?? log.events.first?.t ?? 0
    let endNs = log.events.last?.t ?? t0
    let stuck = Set(v.stuck)
    func name(_ p: Int32) -> String { p == supervisor ? "tractor-diag" : v.name(of: p) }
    var items: [Item] = []
    for (pid, events) in byPid {
      let (spans, single) = ProbeSpans.build(events, endNs: endNs)
      for s in spans { if let i = spanItem(s, name) { items.append(i) } }
      for e in single { if let i = singleItem(e, name) { items.append(i) } }
      if pid != supervisor, let a = v.actors.first(where: { $0.pid == pid }), !a.reachedExit, let last = events.last {
        let probe = a.lastProbe.map { "\($0.site) \($0.event)" } ?? "\(last.site) \(last.event)"
        let end = a.exitStatus.map { ", then \($0)" + (a.hardKilled.map { " (\($0) by parent)" } ?? "") } ?? ""
        items.append(Item(t: last.t, pid: pid, verb: "stuck", text: "never reached EXIT: last probe \(probe)\(end)", foldable: false))
      }
    }
    items.removeAll { $0.verb == "behavior" && !stuck.contains($0.pid) }
    for i in items.indices where stuck.contains(items[i].pid) { items[i].foldable = false }
    items.sort { $0.t != $1.t ? $0.t < $1.t : $0.pid < $1.pid }
    let roleDepth = Dictionary(v.actors.map { ($0.pid, "\($0.role)/\($0.depth)") }, uniquingKeysWith: { a, _ in a })
    let window = max(2_000_000, (endNs - min(endNs, t0)) / 50)
    let lines = TimelineText.fold(items, key: { "\($0.verb)|\(roleDepth[$0.pid] ?? "?")" }, window: window)
    return TimelineText.render(lines, t0: t0, name: name, title: "timeline of \(v.scenario) under \(v.backend)")
  }

  static func spanItem(_ s: ProbeSpan, _ name: (Int32) -> String) -> Item? {
    let dur = TimelineText.ms(s.endNs - s.startNs)
    let how = s.unfinished ? "never returned" : "\(s.closedBy ?? "") after \(dur) ms"
    let peer = s.peer.map { name($0) } ?? "?"
    switch s.site {
    case "cancel_actor":
      let ok = s.closedBy == ProbeKind.returned
      return Item(t: s.startNs, pid: s.pid, verb: "cancel-sent", text: "cancel → \(peer): " + (ok ? "ack after \(dur) ms" : how), summary: "cancel → a child: ack",
        foldable: ok)
    case "cancel":
      return Item(t: s.startNs, pid: s.pid, verb: "cancel-got", text: "cancel received (\(s.detail ?? "")), " + (s.unfinished ? "never returned" : "done after \(dur) ms"),
        summary: "cancel received (\(s.detail ?? "")), done", foldable: !s.unfinished)
    case "wait_for_no_more_peers":
      return Item(t: s.startNs, pid: s.pid, verb: "peers", text: "waits for peers (\(s.detail ?? "")): \(how)",
        summary: "waits for peers (\(s.detail ?? "")): \(s.closedBy ?? "")", foldable: !s.unfinished)
    case "child_exit_wait":
      return Item(t: s.startNs, pid: s.pid, verb: "exit-wait", text: "waits for exit of \(peer): \(how)",
        summary: "waits for a child's exit: \(s.closedBy ?? "")", foldable: !s.unfinished)
    case "connect_back" where s.unfinished || s.closedBy != ProbeKind.returned:
      return Item(t: s.startNs, pid: s.pid, verb: "connect", text: "connect-back of \(peer): \(how)", foldable: false)
    case "behavior" where s.unfinished:
      // Kept for stuck actors only (render): an actor that exited left
      // its behaviour, whatever its probes say.
      let kind = s.detail.flatMap { try? JSONParser.parse($0) }?["kind"]?.string ?? s.detail ?? ""
      return Item(t: s.startNs, pid: s.pid, verb: "behavior", text: "behavior \(kind): never returned", foldable: false)
    default: return nil
    }
  }

  static func singleItem(_ e: ProbeEvent, _ name: (Int32) -> String) -> Item? {
    let peer = e.peer.map { name($0) } ?? "?"
    switch (e.site, e.event) {
    case ("nursery", "SPAWNED"): return Item(t: e.t, pid: e.pid, verb: "spawned", text: "spawned \(peer) \(e.peer ?? 0)", summary: "spawned children")
    case ("runtime", "UP"):
      let role = e.detail?.split(separator: " ").first.map { String($0.dropFirst("role=".count)) } ?? ""
      return Item(t: e.t, pid: e.pid, verb: "up", text: "up (\(role))")
    case ("behavior", "RAISE"): return Item(t: e.t, pid: e.pid, verb: "raise", text: "raised: \(e.detail ?? "")", summary: "raised")
    case ("behavior", "CRASH"): return Item(t: e.t, pid: e.pid, verb: "crash", text: "crashed: \(e.detail ?? "")", foldable: false)
    case ("service_scope", "ERROR"): return Item(t: e.t, pid: e.pid, verb: "relay", text: "reports \(e.detail ?? "an error") to its parent")
    case ("nursery", "CHILD_ERROR"):
      let what = e.detail.map { String($0.prefix(while: { $0 != ":" })) } ?? "error"
      return Item(t: e.t, pid: e.pid, verb: "child-error", text: "got \(what) from \(peer)", summary: "got \(what) from a child")
    case ("nursery", "CANCEL_ALL"): return Item(t: e.t, pid: e.pid, verb: "cancel-all", text: "cancels its other children (\(e.detail ?? ""))",
        summary: "cancels its other children")
    case ("hard_kill", _): return Item(t: e.t, pid: e.pid, verb: "kill", text: "\(e.event) → \(peer)", foldable: false)
    case ("msg_loop", "DROPPED"): return Item(t: e.t, pid: e.pid, verb: "dropped", text: "dropped a \(e.detail ?? "message")", foldable: false)
    case ("msg_loop", "SPIN"): return Item(t: e.t, pid: e.pid, verb: "spin", text: "spins on its parent channel's EOF", foldable: false)
    case ("process", ProbeKind.exit): return Item(t: e.t, pid: e.pid, verb: "exit", text: "EXIT \(e.detail ?? "")")
    case ("supervisor", "STALL"): return Item(t: e.t, pid: e.pid, verb: "stall", text: "stall: \(e.detail ?? "")", foldable: false)
    case ("fork", "FORK") where !(e.detail ?? "").hasPrefix("threads=1 "):
      return Item(t: e.t, pid: e.pid, verb: "fork", text: "fork with \(e.detail ?? "")", foldable: false)
    default: return nil
    }
  }
}
