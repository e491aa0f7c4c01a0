/// `report DIR --timeline` for a watched command (`watch --run-dir DIR`):
/// from its samples, when each process appeared (and under whom), each
/// change of its wait state, when it was gone; the snapshots and the end.
/// Processes of one name appearing or going together fold into one line.
public enum WatchTimeline {
  public static func render(_ w: WatchRunDir) -> String {
    typealias Item = TimelineText.Item
    var items: [Item] = []
    let sightings = w.sightings
    let names = Dictionary(sightings.map { ($0.pid, $0.name) }, uniquingKeysWith: { a, _ in a })
    let end = max(w.endNs, w.samples.last?.t ?? 0)
    let observations = w.samples.map { s in
      (t: s.t, states: Dictionary(s.processes.map { ($0.pid, $0.state) }, uniquingKeysWith: { a, _ in a }))
    }
    let intervals = WaitStates.intervals(observations, endNs: end)
    for p in sightings {
      let parent = names[p.ppid].map { "under \($0) \(p.ppid)" } ?? "parent \(p.ppid)"
      let list = intervals[p.pid] ?? []
      let first = list.first.map { ": \($0.state.name)" } ?? ""
      // Without samples the one observation is the deadline snapshot: when
      // the process appeared is not known.
      let seen = w.samplesFromEvidence ? "seen at the snapshot" : "appeared"
      // All seen at one instant: only those in the same state fold together.
      let key = w.samplesFromEvidence ? "\(seen)|\(p.name)|\(first)" : "\(seen)|\(p.name)"
      items.append(Item(t: p.firstNs, pid: p.pid, verb: key, text: "\(seen) \(parent)\(first)"))
      for (prev, i) in zip(list, list.dropFirst()) where i.startNs < (p.goneNs ?? UInt64.max) {
        items.append(Item(t: i.startNs, pid: p.pid, verb: "state", text: "\(prev.state.name) → \(i.state.name)", foldable: false))
      }
      if let g = p.goneNs { items.append(Item(t: g, pid: p.pid, verb: "gone|\(p.name)", text: "gone")) }
    }
    let first = sightings.first?.pid ?? w.commandPid
    for s in w.snapshots {
      items.append(Item(t: s.t, pid: first, verb: "snapshot", text: "snapshot (\(s.reason)): \(s.file)", foldable: false))
    }
    let code = w.exitCode.map { ", exit \($0)" } ?? ""
    items.append(Item(t: w.endNs, pid: first, verb: "end", text: "end: \(w.outcome)\(code)", foldable: false))
    items.sort { $0.t != $1.t ? $0.t < $1.t : $0.pid < $1.pid }
    let window = max(2_000_000, (end - min(end, w.startNs)) / 50)
    let lines = TimelineText.fold(items, key: \.verb, window: window)
    let title = "timeline of watch: " + w.command.joined(separator: " ")
      + (w.damagedLines > 0 ? " (\(w.damagedLines) damaged sample lines skipped)" : "")
    return TimelineText.render(lines, t0: w.startNs, name: { names[$0] ?? "pid \($0)" }, title: title)
  }
}
