import ActorRuntime
import Diagnosis
import MiniJSON
import SystemCore

extension BenchRunner {
  // MARK: 1-3. Trees

  struct RunSample {
    var durationMs: Double
    var wallMs: Double
    var spawnMsPerActor: Double?
    var actorSpawnMs: [Double]
    var outcome: String
  }

  /// root -> a1 -> ... -> a(length-1), the last returns a value: each actor
  /// spawns exactly one child while its ancestors wait idle, so every spawn
  /// has the machine to itself (what "cost per actor" means next to the
  /// fork+_exit+reap baseline).
  static func chain(length: Int) -> Scenario {
    var node = ActorSpec(name: "a\(length - 1)", role: "leaf", behavior: .returnValue("ok"))
    for i in stride(from: length - 2, through: 1, by: -1) { node = ActorSpec(name: "a\(i)", role: "spawner", children: [node]) }
    return Scenario(name: "chain-\(length)", root: ActorSpec(name: "root", role: "root", children: [node]), expectOutcome: "clean")
  }

  func runOnce(backend: String, depth: Int, tag: String, actor: String) -> RunSample {
    run(Scenario.nestedMultierrors(depth: depth, breadth: 2), label: "depth \(depth)", backend: backend, tag: tag, actor: actor)
  }

  func run(_ scenario: Scenario, label: String, backend: String, tag: String, actor: String) -> RunSample {
    let dir = "\(baseDir)/run-\(backend)-\(scenario.name)-\(tag)"
    let cfg = RunConfig(scenario: scenario, backend: backend, runDir: dir, timeoutMs: 10_000, bounds: Bounds(), actorExecutable: actor)
    let t0 = nowNs()
    let v = DiagnosedRun.run(cfg)
    let wall = Double(nowNs() - t0) / 1e6
    // The run dir stays until the bench's cleanup, as a run's dir stays
    // after a real run. Removed here, its files made the next run's file
    // creation slow on a journal-less ext4 (/tmp here): for a few minutes
    // after a delete, every new inode is searched past each recently
    // deleted one (the kernel's recently_deleted): 27% of the CPU samples
    // of a depth-7 run right after deleted depth-7 runs (perf), 1% on tmpfs.
    if let s = v.interrupted { interrupted(s) }
    if !v.survivors.isEmpty { notes.append("\(backend) \(label): survivors \(v.survivors) after the run") }
    if v.outcome != "clean" {
      let why = (v.unexpected + v.notes).prefix(2).joined(separator: "; ")
      notes.append("\(backend) \(label) run \(tag): outcome \(v.outcome)" + (why.isEmpty ? "" : " (\(why))"))
    }
    return RunSample(
      durationMs: v.durationMs, wallMs: wall, spawnMsPerActor: v.spawnMsPerActor, actorSpawnMs: v.actorSpawnMs, outcome: v.outcome)
  }

  func treeRuns() {
    guard let actor = actorExecutable else {
      notes.append("tractor-actor not found next to tractor-diag: tree runs skipped (build the package)")
      return
    }
    let backends = BenchRunner.backends
    var d1: [String: [RunSample]] = [:]
    var d3: [String: [RunSample]] = [:]
    var alone: [String: [Double]] = [:]
    let chain = BenchRunner.chain(length: 9)
    // Warm-up: one discarded depth-1 run per backend (page cache, first exec).
    for b in backends { _ = runOnce(backend: b, depth: 1, tag: "warmup", actor: actor) }
    // One spawn at a time: 8 per chain run.
    for i in 0..<runs {
      for b in backends {
        alone[b, default: []] += run(chain, label: "chain", backend: b, tag: "\(i)", actor: actor).actorSpawnMs
      }
    }
    checkInterrupt()
    // Interleave backends so that drift in machine load hits them alike.
    for i in 0..<runs {
      for b in backends { d1[b, default: []].append(runOnce(backend: b, depth: 1, tag: "\(i)", actor: actor)) }
    }
    let depth3Backends = quick ? ["forkserver"] : backends
    for i in 0..<runs {
      for b in depth3Backends { d3[b, default: []].append(runOnce(backend: b, depth: 3, tag: "\(i)", actor: actor)) }
    }
    if quick { notes.append("--quick: depth 3 measured for forkserver only") }

    let tractorTrioMs = 4100.0
    var d1Median: [String: Double] = [:]
    for b in backends {
      let s = d1[b] ?? []
      var r = BenchRow(
        key: "tree.depth1.\(b)", name: "depth 1 (15 actors) spawn-to-verdict, \(b)", unit: "ms", samples: s.map(\.durationMs),
        target: b == "spawn" ? (.lt, 150) : nil)
      d1Median[b] = r.median
      if b != "spawn" { r.ratio("spawn \(fmtNum(d1Median["spawn"] ?? 0)) ms", against: "spawn backend, depth 1", baseline: d1Median["spawn"]) }
      r.ratio("anchor 4.1 s tractor/trio", against: "anchor tractor test_nested_multierrors depth=1, trio", baseline: tractorTrioMs, measured: false)
      r.extra = runExtra(s)
      r.note = runNote(s)
      rows.append(r)
    }
    for b in backends {
      guard let s = d3[b] else {
        rows.append(BenchRow(key: "tree.depth3.\(b)", name: "depth 3 (63 actors) spawn-to-verdict, \(b)", unit: "ms", skipped: "skipped (--quick)"))
        continue
      }
      var r = BenchRow(
        key: "tree.depth3.\(b)", name: "depth 3 (63 actors) spawn-to-verdict, \(b)", unit: "ms", samples: s.map(\.durationMs),
        target: b == "forkserver" ? (.lt, 300) : nil)
      r.ratio("depth 1 \(fmtNum(d1Median[b] ?? 0)) ms", against: "same backend, depth 1", baseline: d1Median[b])
      r.extra = runExtra(s)
      r.note = runNote(s)
      rows.append(r)
    }
    // Per-actor spawn cost: each spawn alone (the chain), from the spawn
    // request to the child's first probe. In a tree the same spawns queue
    // behind their siblings for 2 cores; that latency is shown beside it.
    for b in backends {
      let per = alone[b] ?? []
      let target: (BenchRow.Cmp, Double) = b == "spawn" ? (.le, 3) : (.le, 0.5)
      var r = BenchRow(key: "spawn.perActor.\(b)", name: "per-actor spawn cost, \(b)", unit: "ms", samples: per, target: target)
      let d1m = VerdictBuilder.median((d1[b] ?? []).compactMap(\.spawnMsPerActor))
      let d3m = VerdictBuilder.median((d3[b] ?? []).compactMap(\.spawnMsPerActor))
      r.note =
        "median of \(per.count) spawns, one at a time (\(chain.name)): spawn request -> child's first probe; "
        + "in a tree, where actors wait for the 2 cores: depth 1 \(d1m.map { fmtNum($0) + " ms" } ?? "not run"), "
        + "depth 3 \(d3m.map { fmtNum($0) + " ms" } ?? "not run")"
      if threadsAtStart == 1 {
        r.ratio("fork+_exit \(fmtNum(forkBaselineMs ?? 0)) ms", against: "fork+_exit+reap (measured)", baseline: forkBaselineMs)
      }
      r.ratio("posix_spawn /bin/true \(fmtNum(posixSpawnBaselineMs ?? 0)) ms", against: "posix_spawn /bin/true + reap (measured)", baseline: posixSpawnBaselineMs)
      r.extra = [
        ("spawns", .int(Int64(per.count))),
        ("depth1InTreeMedian", d1m.map { .double(round3($0)) } ?? .null),
        ("depth3InTreeMedian", d3m.map { .double(round3($0)) } ?? .null),
      ]
      rows.append(r)
    }
  }

  func runExtra(_ s: [RunSample]) -> [(String, JSONValue)] {
    [
      ("wallMsMedian", VerdictBuilder.median(s.map(\.wallMs)).map { .double(round3($0)) } ?? .null),
      ("clean", .int(Int64(s.filter { $0.outcome == "clean" }.count))),
    ]
  }

  func runNote(_ s: [RunSample]) -> String {
    let clean = s.filter { $0.outcome == "clean" }.count
    var t = "\(clean)/\(s.count) clean"
    if let w = VerdictBuilder.median(s.map(\.wallMs)) { t += ", wall incl. verdict \(fmtNum(w)) ms" }
    return t
  }

}
