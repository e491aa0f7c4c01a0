import Probes

/// A message between two processes that the probes show both ends of.
public struct TraceFlow: Sendable, Equatable {
  public enum Kind: String, Sendable {
    case spawn, cancel, error
  }

  public var kind: Kind
  public var fromPid: Int32
  public var fromNs: UInt64
  public var toPid: Int32
  public var toNs: UInt64
  /// The child's name (spawn), the error's text (error), empty (cancel).
  public var label: String
}

/// The cascade's messages, paired from probes of both processes:
///  - spawn: the parent's `spawn ENTER <name>` (the child's pid from its
///    `nursery SPAWNED peer=<pid> <name>`) to the child's first probe;
///  - cancel: the parent's `cancel_actor ENTER peer=<child>` to the child's
///    next `cancel ENTER` (one not caused by its parent vanishing);
///  - error: the child's last `service_scope ERROR` (or `behavior RAISE`)
///    before its parent's `nursery CHILD_ERROR peer=<child>`, to that.
/// A request whose other end never came has no flow (the verdict says
/// why); every flow has both ends.
public enum TraceFlows {
  public static func build(_ byPid: [Int32: [ProbeEvent]]) -> [TraceFlow] {
    var flows: [TraceFlow] = []
    for (pid, events) in byPid {
      for (i, e) in events.enumerated() {
        switch (e.site, e.event) {
        case ("spawn", ProbeKind.enter):
          guard let name = e.detail,
            let spawned = events[i...].first(where: { $0.site == "nursery" && $0.event == "SPAWNED" && $0.detail == name }),
            let child = spawned.peer, let first = byPid[child]?.first
          else { continue }
          flows.append(TraceFlow(kind: .spawn, fromPid: pid, fromNs: e.t, toPid: child, toNs: first.t, label: name))
        case ("cancel_actor", ProbeKind.enter):
          guard let child = e.peer,
            let got = byPid[child]?.first(where: {
              $0.site == "cancel" && $0.event == ProbeKind.enter && $0.t >= e.t && $0.detail != "parent gone"
            })
          else { continue }
          flows.append(TraceFlow(kind: .cancel, fromPid: pid, fromNs: e.t, toPid: child, toNs: got.t, label: ""))
        case ("nursery", "CHILD_ERROR"):
          guard let child = e.peer, let childEvents = byPid[child] else { continue }
          let before = childEvents.filter { $0.t <= e.t }
          guard
            let sent = before.last(where: { $0.site == "service_scope" && $0.event == "ERROR" })
              ?? before.last(where: { $0.site == "behavior" && $0.event == "RAISE" })
          else { continue }
          flows.append(TraceFlow(kind: .error, fromPid: child, fromNs: sent.t, toPid: pid, toNs: e.t, label: e.detail ?? "error"))
        default: continue
        }
      }
    }
    return flows.sorted { $0.fromNs != $1.fromNs ? $0.fromNs < $1.fromNs : $0.toPid < $1.toPid }
  }
}
