import ActorRuntime
import Diagnosis
import FaultInjection
import MiniJSON
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
      var cpu: [Double] = []
      for i in 0..<n {
        // CPU of the whole run (tool, fork server, every actor: all reaped
        // by the end of the run), which load from others does not inflate
        // as it does the wall time.
        let c0 = ResourceUsage.cpuNsWithReapedChildren()
        s.append(runOnce(backend: b, depth: 7, tag: "d7-\(i)", actor: actor))
        cpu.append(Double(ResourceUsage.cpuNsWithReapedChildren() - c0) / 1e6)
        checkInterrupt()
      }
      var r = BenchRow(
        key: "tree.depth7.\(b)", name: "depth 7 (1023 actors) spawn-to-verdict, \(b)", unit: "ms", samples: s.map(\.durationMs),
        target: b == "forkserver" ? (.lt, 1500) : nil)
      r.extra = runExtra(s) + [("cpuMsMedian", VerdictBuilder.median(cpu).map { .double(($0 * 1000).rounded() / 1000) } ?? .null)]
      r.note = runNote(s) + (VerdictBuilder.median(cpu).map { ", CPU (user+sys, whole tree) \(fmtNum($0)) ms" } ?? "")
      rows.append(r)
    }
    // The hang: the first leaf gets `ignore-cancel` as `--fault` gives it
    // (FaultInjection): its parent delivers its spec even when a sibling's
    // error cancels it first (a shielded connect-back), and its service
    // task keeps waiting after the cancel. The deadline is short so the
    // row stays quick, and shorter than the ladder (cancel ack 0.5 s, exit
    // wait 4 s, then SIGTERM), so the leaf is still there at the deadline.
    let timeoutMs = 3000
    var late: [Double] = []
    for i in 0..<n {
      var scenario = Scenario.nestedMultierrors(depth: 7, breadth: 2)
      scenario.name = "depth7-stuck-leaf"
      do { try FaultCatalog.apply([Fault.ignoreCancel.rawValue], to: &scenario) } catch {
        notes.append("depth-7 stuck leaf: \(error)")
        break
      }
      FaultInjection.settle(&scenario)
      let dir = "\(baseDir)/run-forkserver-\(scenario.name)-\(i)"
      let cfg = RunConfig(
        scenario: scenario, backend: "forkserver", runDir: dir, timeoutMs: timeoutMs, bounds: Bounds(), actorExecutable: actor)
      let t0 = nowNs()
      let v = DiagnosedRun.run(cfg)
      let wallMs = Double(nowNs() - t0) / 1e6
      // Kept until the bench's cleanup (see `run`).
      if let sig = v.interrupted { interrupted(sig) }
      // Only a run that hung measures the lateness (any other outcome is a
      // finding, noted).
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
    h.note = "deadline to printed verdict (snapshot, teardown of 1023 processes, verdict), fault ignore-cancel on the first leaf; deadline \(timeoutMs) ms"
    rows.append(h)
    var rss = BenchRow(
      key: "tool.peakRSS", name: "tractor-diag peak RSS (getrusage ru_maxrss) after the depth-7 runs", unit: "MiB",
      samples: [Double(ResourceUsage.peakRSSKiB()) / 1024])
    rss.note = "the supervisor and the verdict run in this process"
    rows.append(rss)
  }

}
