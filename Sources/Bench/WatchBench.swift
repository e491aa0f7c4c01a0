import Diagnosis
import Glibc
import SystemCore

extension BenchRunner {
  // MARK: 6. watch: deadline to verdict

  /// `watch` on a 6-process Python tree (5 levels in os.waitpid, one in
  /// time.sleep, started by os.fork so it is up long before the deadline):
  /// the time from the deadline to the verdict (snapshot with its CPU
  /// sample window, native stacks of all 6, the classes), before the
  /// teardown, which is reported beside it. In this process, as
  /// `tractor-diag watch` runs it.
  func watchDeadlineToVerdict() {
    let key = "watch.deadlineToVerdict.tree6"
    let name = "watch: deadline to verdict, 6-process Python tree"
    let target: (BenchRow.Cmp, Double) = (.lt, 1000)
    guard let python = Syscalls.findExecutable("python3") else {
      rows.append(BenchRow(key: key, name: name, unit: "ms", skipped: "python3 not found", target: target))
      return
    }
    let timeoutMs = 1500  // python3 start + 5 forks take ~100 ms here; the rest is margin for a loaded box
    var toVerdict: [Double] = []
    var teardown: [Double] = []
    var seen: Set<Int> = []
    for _ in 0..<max(runs, 3) {
      let o = WatchRun.run(
        command: [python, "-c", ForkChainScript.chain(levels: 5)],
        options: WatchRun.Options(timeoutMs: timeoutMs, stacks: true, stdoutToStderr: true, keeperExecutable: actorExecutable))
      if let sig = o.verdict.interrupted { interrupted(sig) }
      guard let ms = o.deadlineToVerdictMs else {
        notes.append("watch bench: the tree did not outlive its deadline (\(o.startError ?? o.verdict.outcome))")
        continue
      }
      toVerdict.append(ms)
      teardown.append(o.verdict.durationMs - Double(timeoutMs) - ms)
      seen.insert(o.verdict.actors.count)
      checkInterrupt()
    }
    var r = BenchRow(key: key, name: name, unit: "ms", samples: toVerdict, target: target)
    let td = VerdictBuilder.median(teardown).map { "; then the teardown (SIGTERM, reap) took \(Int($0.rounded())) ms (median)" } ?? ""
    r.note = "\(seen.sorted().map(String.init).joined(separator: "/")) processes in the verdict, with native stacks" + td
    rows.append(r)
  }
}
