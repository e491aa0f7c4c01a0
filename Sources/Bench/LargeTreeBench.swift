import ActorRuntime
import Diagnosis
import SystemCore

extension BenchRunner {
  // MARK: 4. 1023 actors

  /// nested-multierrors depth 7 (1023 actors at breadth 2) under every
  /// backend: spawn-to-verdict (target: forkserver < 1.5 s); a depth-7 hang
  /// (one leaf keeps waiting after its cancel request) and how long after
  /// the deadline its verdict arrives (target: within 2 s); and the tool's
  /// peak RSS over all of it (the supervisor runs in this process).
  func largeTreeRuns() {
    guard let actor = actorExecutable else { return }
    let n = quick ? 1 : min(runs, 3)
    let backends = quick ? ["forkserver"] : BenchRunner.backends
    for b in backends {
      var s: [RunSample] = []
      for i in 0..<n {
        s.append(runOnce(backend: b, depth: 7, tag: "d7-\(i)", actor: actor))
        checkInterrupt()
      }
      var r = BenchRow(
        key: "tree.depth7.\(b)", name: "depth 7 (1023 actors) spawn-to-verdict, \(b)", unit: "ms", samples: s.map(\.durationMs),
        target: b == "forkserver" ? (.lt, 1500) : nil)
      r.extra = runExtra(s)
      r.note = runNote(s)
      rows.append(r)
    }
    // The hang: the deadline is short so the row stays quick; the teardown
    // ladder may end the stuck leaf before it (a negative lateness).
    let timeoutMs = 3000
    var late: [Double] = []
    for i in 0..<n {
      var scenario = Scenario.nestedMultierrors(depth: 7, breadth: 2)
      scenario.name = "depth7-stuck-leaf"
      scenario.root = BenchRunner.firstLeafIgnoresCancel(scenario.root)
      let dir = "\(baseDir)/run-forkserver-\(scenario.name)-\(i)"
      let cfg = RunConfig(
        scenario: scenario, backend: "forkserver", runDir: dir, timeoutMs: timeoutMs, bounds: Bounds(), actorExecutable: actor)
      let t0 = nowNs()
      let v = DiagnosedRun.run(cfg)
      let wallMs = Double(nowNs() - t0) / 1e6
      ScratchDirectory.remove(dir)
      if let sig = v.interrupted { interrupted(sig) }
      // Only a run that hung measures the lateness: at depth 7 the stuck
      // leaf may be cancelled before it gets its spec, and then it exits.
      if v.outcome != "hang" {
        notes.append("depth-7 stuck leaf run \(i): outcome \(v.outcome), not hang (not counted)")
        continue
      }
      late.append(wallMs - Double(timeoutMs))
    }
    let name = "depth 7 hang verdict after the deadline, forkserver"
    var h =
      late.isEmpty
      ? BenchRow(key: "tree.depth7.hangVerdictAfterDeadline", name: name, unit: "ms", skipped: "no run hung", target: (.le, 2000))
      : BenchRow(key: "tree.depth7.hangVerdictAfterDeadline", name: name, unit: "ms", samples: late, target: (.le, 2000))
    h.note = "one leaf keeps waiting after its cancel request; deadline \(timeoutMs) ms; negative: the ladder ended it before the deadline"
    rows.append(h)
    var rss = BenchRow(
      key: "tool.peakRSS", name: "tractor-diag peak RSS (getrusage ru_maxrss) after the depth-7 runs", unit: "MiB",
      samples: [Double(ResourceUsage.peakRSSKiB()) / 1024])
    rss.note = "the supervisor and the verdict run in this process"
    rows.append(rss)
  }

  /// The scenario with its first leaf's behaviour replaced by ignoreCancel.
  static func firstLeafIgnoresCancel(_ node: ActorSpec) -> ActorSpec {
    var n = node
    if n.children.isEmpty {
      n.behavior = .ignoreCancel
      return n
    }
    n.children[0] = firstLeafIgnoresCancel(n.children[0])
    return n
  }
}
