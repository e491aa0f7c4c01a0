import ActorRuntime
import ArgumentParser
import Diagnosis
import Glibc
import KernelEvidence
import MiniJSON
import NativeStacks
import Probes
import SystemCore

/// `tractor-diag bench`: medians of spawn-to-verdict, per-actor spawn cost,
/// probe cost and snapshot/stack cost, each against its target and against
/// baselines measured in the same invocation. Always exits 0 (130 when
/// interrupted): benchmarks report, they never fail the build.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure spawn, probe, teardown and snapshot costs; prints medians and ratios (make bench).",
    discussion: """
      Every number is a median over --runs repetitions (default 9; --quick uses 3,
      fewer baseline samples, and skips depth-3 runs of spawn/fork and most eu-stack
      runs).
      Per-actor spawn cost is measured one spawn at a time (a 9-actor chain, 8
      spawns per run); the same cost inside depth-1 and depth-3 trees, where 15 or
      63 actors queue for the CPUs, is printed beside it.
      Baselines (fork+_exit+reap, posix_spawn /bin/true, raw write(2), eu-stack)
      are measured in the same invocation. Run dirs go to /tmp/tractor-diag-bench
      and are deleted; every process started here is killed and reaped.
      """)

  @Option(help: "Repetitions per measurement; medians are taken over these (default 9, or 3 with --quick).")
  var runs: Int?

  @Flag(help: "3 repetitions and skip the slowest parts.")
  var quick = false

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  func validate() throws {
    if let r = runs, !(1...101).contains(r) { throw ValidationError("--runs must be 1...101") }
  }

  func run() throws {
    let bench = BenchRunner(runs: runs ?? (quick ? 3 : 9), quick: quick)
    bench.runAll()
    emit(format == .json ? bench.json.pretty + "\n" : bench.text)
  }
}

// MARK: - Results

/// One line of the table.
private struct BenchRow {
  enum Cmp { case lt, le }
  var key: String
  var name: String
  var unit: String  // "ms" or "µs"
  var samples: [Double] = []
  var median: Double? = nil
  var target: (Cmp, Double)? = nil
  /// (label for text, against, ratio, measured-in-this-run)
  var ratios: [(text: String, against: String, value: Double, measured: Bool)] = []
  var note: String? = nil
  var extra: [(String, JSONValue)] = []

  init(key: String, name: String, unit: String, samples: [Double], target: (Cmp, Double)? = nil) {
    self.key = key
    self.name = name
    self.unit = unit
    self.samples = samples
    self.median = VerdictBuilder.median(samples)
    self.target = target
  }

  init(key: String, name: String, unit: String, skipped: String, target: (Cmp, Double)? = nil) {
    self.key = key
    self.name = name
    self.unit = unit
    self.target = target
    self.note = skipped
  }

  var pass: Bool? {
    guard let m = median, let t = target else { return nil }
    return t.0 == .lt ? m < t.1 : m <= t.1
  }

  var targetText: String {
    guard let t = target else { return "-" }
    var v = "\(t.1)"
    if v.hasSuffix(".0") { v.removeLast(2) }
    return (t.0 == .lt ? "< " : "<= ") + v + " " + unit
  }

  mutating func ratio(_ text: String, against: String, baseline: Double?, measured: Bool = true) {
    guard let m = median, let b = baseline, b > 0 else { return }
    ratios.append((text: text, against: against, value: m / b, measured: measured))
  }
}

/// Fixed-point text without Foundation: 3 significant-ish digits.
private func fmtNum(_ x: Double) -> String {
  guard x.isFinite else { return "\(x)" }
  let a = abs(x)
  let decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.01 ? 3 : 4
  return fixed(x, decimals)
}

private func fixed(_ x: Double, _ decimals: Int) -> String {
  var scale = 1.0
  for _ in 0..<decimals { scale *= 10 }
  let m = Int64((abs(x) * scale).rounded())
  let ip = m / Int64(scale)
  let fp = m % Int64(scale)
  var s = (x < 0 && m != 0 ? "-" : "") + String(ip)
  if decimals > 0 {
    let f = String(fp)
    s += "." + String(repeating: "0", count: decimals - f.count) + f
  }
  return s
}

private func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }

// MARK: - Runner

private final class BenchRunner {
  let runs: Int
  let quick: Bool
  let baseDir: String
  var rows: [BenchRow] = []
  var notes: [String] = []
  /// Roots (each leading its own process group) of processes started here that may still be alive.
  var live: [Int32] = []
  var devNull = FileDescriptor.none
  var threadsAtStart: Int32 = 0
  let startNs = Syscalls.monotonicNs()
  var totalMs: Double = 0

  static let termSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
  static let backends = ["spawn", "fork", "forkserver"]

  init(runs: Int, quick: Bool) {
    self.runs = runs
    self.quick = quick
    baseDir = "/tmp/tractor-diag-bench/\(Syscalls.pid)"
  }

  func runAll() {
    // Ctrl-C must still end with every process started here dead and reaped:
    // hold the termination signals (a run blocks them in this thread too) and
    // check for them between measurements. As a child subreaper, orphans of
    // the trees started here come back to us to be reaped.
    Syscalls.block(signals: BenchRunner.termSignals)
    try? Syscalls.becomeChildSubreaper()
    do { devNull = try Syscalls.open("/dev/null", O_RDWR) } catch { notes.append("\(error)") }
    do { try Syscalls.makeDirectories(baseDir) } catch { notes.append("cannot create \(baseDir): \(error)") }

    spawnBaselines()
    checkInterrupt()
    probeCost()
    checkInterrupt()
    snapshotCosts()
    checkInterrupt()
    treeRuns()

    cleanup()
    totalMs = Double(Syscalls.monotonicNs() - startNs) / 1e6
  }

  // MARK: Safety

  func checkInterrupt() {
    for s in Syscalls.pending(of: BenchRunner.termSignals) { interrupted(s) }
  }

  func interrupted(_ sig: Int32) -> Never {
    cleanup()
    fail(128 + sig, "bench interrupted by signal \(sig); everything it started was killed")
  }

  func cleanup() {
    for root in live { killTree(root) }
    live.removeAll()
    drainChildren(deadlineMs: 2000)
    removeTree(baseDir)
    Syscalls.remove("/tmp/tractor-diag-bench", isDirectory: true)  // only when no other bench uses it
    devNull.close()
  }

  /// SIGKILLs `root`, its process group and every descendant, then reaps.
  func killTree(_ root: Int32) {
    let desc = KernelEvidence.descendants(of: root)
    Syscalls.kill(-root, SIGKILL)
    Syscalls.kill(root, SIGKILL)
    for d in desc { Syscalls.kill(d, SIGKILL) }
    // Bounded: a SIGKILLed process is reaped at once unless the kernel holds
    // it (D state); then the final cleanup reports it instead of hanging.
    let end = nowNs() + 2_000_000_000
    while Syscalls.reapIfExited(root) == .running && nowNs() < end { Syscalls.sleep(ms: 1) }
    live.removeAll { $0 == root }
    // With other trees of ours still alive, reap what has exited and go on;
    // the final cleanup drains the rest.
    drainChildren(deadlineMs: live.isEmpty ? 2000 : 0)
  }

  /// Reaps every child (our own and orphans reparented to us), bounded.
  func drainChildren(deadlineMs: Int) {
    ProcessTree.reapAll(boundMs: deadlineMs)
    if deadlineMs > 0 && !ProcessTree.children(of: Syscalls.pid).isEmpty {
      notes.append("children still unreaped after \(deadlineMs) ms")
    }
  }

  /// Only ever deletes below /tmp/tractor-diag-bench/.
  func removeTree(_ path: String) {
    guard path.hasPrefix("/tmp/tractor-diag-bench/") else { return }
    guard let st = Syscalls.linkStatus(path) else { return }
    if st.isDirectory { for n in Syscalls.listDirectory(path) { removeTree(path + "/" + n) } }
    Syscalls.remove(path, isDirectory: st.isDirectory)
  }

  // MARK: Process helpers

  /// posix_spawn with stdio on /dev/null, an empty signal mask, default dispositions.
  func spawn(_ argv: [String], newGroup: Bool) -> Int32? {
    do {
      return try Syscalls.spawn(argv[0], arguments: argv, channelTarget: 0, stdout: devNull.rawValue, stderr: devNull.rawValue, newProcessGroup: newGroup)
    } catch {
      notes.append("posix_spawn \(argv[0]) failed: \(String(cString: strerror(error.errno)))")
      return nil
    }
  }

  /// Waits for our child `pid` at most `timeoutMs`; kills it when late.
  /// Returns the elapsed ns since `since` when it exited, nil on timeout.
  func waitChild(_ pid: Int32, since: UInt64, timeoutMs: Int) -> (ns: UInt64, status: WaitStatus)? {
    let end = since + UInt64(timeoutMs) * 1_000_000
    var pidfd = FileDescriptor.none
    do { pidfd.replace(with: try Syscalls.pidfdOpen(pid)) } catch {}  // without one: WNOHANG polling
    let pfd = pidfd.rawValue
    while true {
      if pfd >= 0 {
        let now = Syscalls.monotonicNs()
        if now >= end { break }
        if !Syscalls.pollReadable(pfd, timeoutMs: Int32(max(1, (end - now) / 1_000_000))) { break }
      }
      if pfd >= 0 {
        // Readable pidfd: the child has exited, reaping cannot block.
        guard let st = Syscalls.waitBlocking(pid) else { return nil }
        return (Syscalls.monotonicNs() - since, st)
      }
      switch Syscalls.reapIfExited(pid) {
      case .exited(_, let st): return (Syscalls.monotonicNs() - since, st)
      case .noChild: return nil
      case .running: break
      }
      if Syscalls.monotonicNs() >= end { break }
      Syscalls.sleep(us: 200)
    }
    killTree(pid)
    return nil
  }

  static func exeName(_ pid: Int32) -> String {
    guard let path = Syscalls.readLink("/proc/\(pid)/exe"), !path.isEmpty else { return "" }
    return String(path.split(separator: "/").last ?? "")
  }

  func nowNs() -> UInt64 { Syscalls.monotonicNs() }

  // MARK: 3. Spawn baselines

  var forkBaselineMs: Double? = nil
  var posixSpawnBaselineMs: Double? = nil

  func spawnBaselines() {
    let n = quick ? 60 : 200
    // posix_spawn /bin/true + reap.
    let truePath = access("/bin/true", X_OK) == 0 ? "/bin/true" : (Syscalls.findExecutable("true") ?? "/bin/true")
    var spawnSamples: [Double] = []
    for i in 0..<(n + 5) {
      let t0 = nowNs()
      guard let pid = spawn([truePath], newGroup: false) else { break }
      _ = Syscalls.waitBlocking(pid)
      let dt = Double(nowNs() - t0) / 1e6
      if i >= 5 { spawnSamples.append(dt) }  // 5 warm-ups
    }
    var r = BenchRow(key: "baseline.posixSpawnTrue", name: "baseline posix_spawn /bin/true + reap", unit: "ms", samples: spawnSamples)
    r.note = "\(spawnSamples.count) spawns"
    r.ratio("anchor 0.600 ms", against: "anchor C posix_spawn /bin/true", baseline: 0.600, measured: false)
    posixSpawnBaselineMs = r.median
    rows.append(r)

    // fork + _exit + reap, only from a single-threaded process.
    threadsAtStart = Syscalls.threadCount()
    if threadsAtStart == 1 {
      var forkSamples: [Double] = []
      for i in 0..<(n + 5) {
        let t0 = nowNs()
        let pid: Int32
        do { pid = try Syscalls.fork() } catch {
          notes.append("fork failed: \(String(cString: strerror(error.errno)))")
          break
        }
        if pid == 0 { Syscalls.exitImmediately(0) }
        _ = Syscalls.waitBlocking(pid)
        let dt = Double(nowNs() - t0) / 1e6
        if i >= 5 { forkSamples.append(dt) }
      }
      var f = BenchRow(key: "baseline.forkExitReap", name: "baseline fork + _exit + reap", unit: "ms", samples: forkSamples)
      f.note = "\(forkSamples.count) forks of this single-threaded process"
      f.ratio("anchor 0.103 ms (C)", against: "anchor C fork+_exit+waitpid", baseline: 0.103, measured: false)
      forkBaselineMs = f.median
      rows.append(f)
    } else {
      rows.append(
        BenchRow(
          key: "baseline.forkExitReap", name: "baseline fork + _exit + reap", unit: "ms",
          skipped: "not measured: this process has \(threadsAtStart) threads; posix_spawn /bin/true is the baseline"))
      forkBaselineMs = posixSpawnBaselineMs
    }
  }

  // MARK: 4. Probe cost

  func probeCost() {
    let batches = quick ? 3 : 10
    let perBatch = 10_000
    let dir = baseDir + "/probe"
    var probeSamples: [Double] = []
    var rawSamples: [Double] = []
    let detail = "spawner_0_depth_0_errorer_1"
    for b in 0..<(batches + 1) {  // batch 0 is a warm-up
      let bdir = "\(dir)/batch-\(b)"
      do { try Syscalls.makeDirectories(bdir) } catch {
        notes.append("probe cost: \(error)")
        return
      }
      // ProbeWriter.record: format one event line + one O_APPEND write(2).
      do {
        let w = try ProbeWriter(directory: bdir, actor: "bench")
        let t0 = nowNs()
        for i in 0..<perBatch { w.record("nursery", "SPAWNED", peer: Int32(truncatingIfNeeded: 1000 + i), detail: detail) }
        let dt = nowNs() - t0
        if b > 0 { probeSamples.append(Double(dt) / Double(perBatch) / 1000) }
      } catch {
        notes.append("probe cost: \(error)")
        return
      }
      // Baseline: write(2) of an already formatted line of the same length.
      var line = ProbeEvent(
        t: nowNs(), pid: Syscalls.pid, actor: "bench", site: "nursery", event: "SPAWNED", peer: 1000, detail: detail
      ).line
      if let fd = try? Syscalls.open("\(bdir)/raw.jsonl", O_WRONLY | O_CREAT | O_APPEND) {
        let t0 = nowNs()
        line.withUTF8 { buf in
          // The baseline is the bare syscall: no wrapper, no EINTR check.
          for _ in 0..<perBatch { _ = Glibc.write(fd.rawValue, buf.baseAddress!, buf.count) }
        }
        let dt = nowNs() - t0
        if b > 0 { rawSamples.append(Double(dt) / Double(perBatch) / 1000) }
      }
      removeTree(bdir)
      checkInterrupt()
    }
    removeTree(dir)
    var raw = BenchRow(key: "baseline.rawWrite", name: "baseline write(2) of a formatted line", unit: "µs", samples: rawSamples)
    raw.note = "\(batches) batches of \(perBatch), O_APPEND file in /tmp"
    var p = BenchRow(key: "probe.record", name: "probe ProbeWriter.record per event", unit: "µs", samples: probeSamples, target: (.lt, 2))
    p.note = "median of \(batches) batches of \(perBatch)"
    p.ratio("\(fmtNum(raw.median ?? 0)) µs raw write(2)", against: "raw write(2) of the same line", baseline: raw.median)
    rows.append(p)
    rows.append(raw)
  }

  // MARK: 5. Snapshot and stacks

  /// Starts a 17-process chain (16 waiters + 1 sleeper) as its own process
  /// group; returns the root and the kind of tree.
  func startChain(python: String?) -> (root: Int32, kind: String)? {
    if let py = python {
      // Each level forks the next and blocks in os.waitpid; the last sleeps.
      // PR_SET_PDEATHSIG ties every level to its parent should the bench die.
      let script = """
        import os, time
        try:
            import ctypes
            _prctl = ctypes.CDLL(None).prctl
        except Exception:
            _prctl = None
        def tie():
            if _prctl is not None:
                try: _prctl(1, 9)
                except Exception: pass
        tie()
        for _ in range(16):
            pid = os.fork()
            if pid:
                os.waitpid(pid, 0)
                os._exit(0)
            tie()
        time.sleep(600)
        """
      if let root = spawn([py, "-c", script], newGroup: true) {
        live.append(root)
        if waitChainReady(root, leafExe: "python") { return (root, "python3 os.fork chain, 16 in os.waitpid + 1 in time.sleep") }
        notes.append("python3 chain did not come up within 10 s; using a /bin/sh chain")
        killTree(root)
      }
    }
    // /bin/sh fallback: 16 shells in `wait` and one `sleep`.
    let sleep = access("/bin/sleep", X_OK) == 0 ? "/bin/sleep" : (Syscalls.findExecutable("sleep") ?? "sleep")
    let sh = "n=$1; if [ \"$n\" -gt 0 ]; then /bin/sh -c \"$0\" \"$0\" $((n-1)) & wait; else exec \(sleep) 600; fi"
    guard let root = spawn(["/bin/sh", "-c", sh, sh, "16"], newGroup: true) else { return nil }
    live.append(root)
    if waitChainReady(root, leafExe: "sleep") { return (root, "/bin/sh chain, 16 shells in wait + 1 sleep") }
    notes.append("/bin/sh chain did not come up within 10 s")
    killTree(root)
    return nil
  }

  func waitChainReady(_ root: Int32, leafExe: String) -> Bool {
    let end = nowNs() + 10_000_000_000
    while nowNs() < end {
      checkInterrupt()
      let d = KernelEvidence.descendants(of: root)
      if d.count == 16, BenchRunner.exeName(root).hasPrefix(leafExe) || leafExe == "sleep",
        let leaf = d.last, BenchRunner.exeName(leaf).hasPrefix(leafExe),
        ([root] + d).allSatisfy({ ProcessTree.state($0) == "S" })
      {
        Syscalls.sleep(ms: 20)
        return true
      }
      if case .exited = Syscalls.reapIfExited(root) {
        live.removeAll { $0 == root }
        return false
      }
      Syscalls.sleep(ms: 5)
    }
    return false
  }

  /// `eu-stack -p PID` wall time (spawn to reap), ms; nil when it failed.
  func euStack(_ path: String, pid: Int32) -> Double? {
    let t0 = nowNs()
    guard let child = spawn([path, "-p", "\(pid)"], newGroup: true) else { return nil }
    guard let done = waitChild(child, since: t0, timeoutMs: 10_000) else {
      notes.append("eu-stack -p \(pid) took more than 10 s; killed")
      return nil
    }
    let ns = done.ns
    let st = done.status
    if st != .exited(0) {
      let msg = "eu-stack -p \(pid) exited with status \(st.code)"
      if !notes.contains(msg) { notes.append(msg) }
    }
    return Double(ns) / 1e6
  }

  func snapshotCosts() {
    let python = Syscalls.findExecutable("python3")
    let eu = Syscalls.findExecutable("eu-stack")
    if python == nil { notes.append("python3 not found: /bin/sh processes are used as snapshot targets") }
    if eu == nil { notes.append("eu-stack not found (apt-get install elfutils): no eu-stack ratios") }
    let stacksOK = NativeStacks.isAvailable
    if !stacksOK { notes.append("native stacks unavailable: \(NativeStacks.unavailableReason ?? "?") (/proc-only timings)") }

    // Whole-tree snapshot, per-process snapshot + stacks.
    let snapTarget: (BenchRow.Cmp, Double) = (.lt, 60)
    let perProcTarget: (BenchRow.Cmp, Double) = (.le, 5)
    if let chain = startChain(python: python) {
      let root = chain.root
      let kind = chain.kind
      let pids = [root] + KernelEvidence.descendants(of: root)
      var snapMs: [Double] = []
      var counts: [Int] = []
      let reps = max(runs, 5)
      _ = KernelEvidence.snapshot(pids: [root], includeDescendants: true)  // warm-up
      for _ in 0..<reps {
        let t0 = nowNs()
        let s = KernelEvidence.snapshot(pids: [root], includeDescendants: true)
        snapMs.append(Double(nowNs() - t0) / 1e6)
        counts.append(s.processes.count)
        checkInterrupt()
      }
      var r = BenchRow(key: "snapshot.tree17", name: "snapshot of 17-process tree (/proc+sock_diag)", unit: "ms", samples: snapMs, target: snapTarget)
      r.note = kind + "; \(counts.min() ?? 0)-\(counts.max() ?? 0) processes seen"
      r.ratio("anchor 66 ms eu-stack x17", against: "anchor eu-stack over 17 pids", baseline: 66, measured: false)
      rows.append(r)

      // Per process: snapshot of that pid + native stacks of all its threads.
      var perProc: [Double] = []
      var snapPart: [Double] = []
      var unwindPart: [Double] = []
      var symPart: [Double] = []
      var treeTotal: [Double] = []
      var stackNotes: Set<String> = []
      _ = NativeStacks.capture(pid: root)  // warm-up (dlopen, symbol tables)
      for _ in 0..<reps {
        let tt = nowNs()
        for p in pids {
          let t0 = nowNs()
          _ = KernelEvidence.snapshot(pids: [p], includeDescendants: false)
          let t1 = nowNs()
          let st = NativeStacks.capture(pid: p)
          perProc.append(Double(nowNs() - t0) / 1e6)
          snapPart.append(Double(t1 - t0) / 1e6)
          unwindPart.append(Double(st.unwindNs) / 1e6)
          symPart.append(Double(st.symbolizeNs) / 1e6)
          if let n = st.note { stackNotes.insert(n) }
        }
        treeTotal.append(Double(nowNs() - tt) / 1e6)
        checkInterrupt()
      }
      for n in stackNotes.sorted() { notes.append("stacks of tree processes: \(n)") }

      // eu-stack on the same processes.
      var euPer: [Double] = []
      var euTree: [Double] = []
      if let eu {
        let euReps = quick ? 1 : reps
        _ = euStack(eu, pid: root)  // warm-up
        for _ in 0..<euReps {
          let tt = nowNs()
          var ok = true
          for p in (quick ? [pids[0], pids[pids.count / 2], pids[pids.count - 1]] : pids) {
            if let ms = euStack(eu, pid: p) { euPer.append(ms) } else { ok = false }
          }
          if ok && !quick { euTree.append(Double(nowNs() - tt) / 1e6) }
          checkInterrupt()
        }
      }
      let euPerMed = VerdictBuilder.median(euPer)
      var pp = BenchRow(key: "snapshot.perProcessWithStacks", name: "per-process snapshot + native stacks", unit: "ms", samples: perProc, target: perProcTarget)
      pp.note =
        "\(perProc.count) samples over \(pids.count) processes; parts: snapshot \(fmtNum(VerdictBuilder.median(snapPart) ?? 0)) ms, "
        + "attach+unwind+detach \(fmtNum(VerdictBuilder.median(unwindPart) ?? 0)) ms, symbolize \(fmtNum(VerdictBuilder.median(symPart) ?? 0)) ms"
      pp.extra = [
        ("snapshotPartMs", .double(round3(VerdictBuilder.median(snapPart) ?? 0))),
        ("unwindPartMs", .double(round3(VerdictBuilder.median(unwindPart) ?? 0))),
        ("symbolizePartMs", .double(round3(VerdictBuilder.median(symPart) ?? 0))),
      ]
      pp.ratio("eu-stack -p \(fmtNum(euPerMed ?? 0)) ms", against: "eu-stack -p on the same processes", baseline: euPerMed)
      pp.ratio("anchor 5.5 ms eu-stack", against: "anchor eu-stack -p", baseline: 5.5, measured: false)
      rows.append(pp)
      var tt = BenchRow(key: "snapshot.tree17WithStacks", name: "17 x (snapshot + stacks), whole tree", unit: "ms", samples: treeTotal)
      let euTreeMed = VerdictBuilder.median(euTree)
      tt.ratio("eu-stack x17 \(fmtNum(euTreeMed ?? 0)) ms", against: "eu-stack -p over the same 17 pids", baseline: euTreeMed)
      tt.ratio("anchor 140 ms py-spy --subprocesses", against: "anchor py-spy dump --subprocesses", baseline: 140, measured: false)
      rows.append(tt)
      if let m = euPerMed {
        var e = BenchRow(key: "baseline.euStackPerProcess", name: "baseline eu-stack -p, tree process", unit: "ms", samples: euPer)
        e.median = m
        e.note = "whole command, spawn to reap"
        rows.append(e)
      }
      killTree(root)
    } else {
      rows.append(BenchRow(key: "snapshot.tree17", name: "snapshot of 17-process tree (/proc+sock_diag)", unit: "ms", skipped: "no tree could be started", target: snapTarget))
      rows.append(BenchRow(key: "snapshot.perProcessWithStacks", name: "per-process snapshot + native stacks", unit: "ms", skipped: "no tree could be started", target: perProcTarget))
    }
    checkInterrupt()

    // Busy target: the stall one capture causes in a thread spinning on CPU.
    let stallTarget: (BenchRow.Cmp, Double) = (.lt, 0.5)
    guard stacksOK else {
      rows.append(BenchRow(key: "stacks.busyStall", name: "stall of a busy thread (one capture)", unit: "ms", skipped: "native stacks unavailable", target: stallTarget))
      return
    }
    var spinner: Int32? = nil
    var spinKind = ""
    if let py = python, let p = spawn([py, "-c", "while True: pass"], newGroup: true) {
      live.append(p)
      let end = nowNs() + 10_000_000_000
      while nowNs() < end && !BenchRunner.exeName(p).hasPrefix("python") && ProcessTree.state(p) != nil { Syscalls.sleep(ms: 5) }
      if BenchRunner.exeName(p).hasPrefix("python") {
        spinner = p
        spinKind = "python3 -c 'while True: pass'"
      } else {
        killTree(p)
      }
    }
    if spinner == nil, let p = spawn(["/bin/sh", "-c", "while :; do :; done"], newGroup: true) {
      live.append(p)
      spinner = p
      spinKind = "/bin/sh -c 'while :; do :; done'"
    }
    guard let spin = spinner else {
      rows.append(BenchRow(key: "stacks.busyStall", name: "stall of a busy thread (one capture)", unit: "ms", skipped: "no busy process could be started", target: stallTarget))
      return
    }
    Syscalls.sleep(ms: 100)  // let it reach its loop
    var stalls: [Double] = []
    var captures: [Double] = []
    var threadCounts: Set<Int> = []
    var frames: [Double] = []
    var unwinds: [Double] = []
    _ = NativeStacks.capture(pid: spin)  // warm-up
    let reps = max(runs, 5)
    for _ in 0..<reps {
      let t0 = nowNs()
      let st = NativeStacks.capture(pid: spin)
      captures.append(Double(nowNs() - t0) / 1e6)
      stalls.append(Double(st.maxStallNs) / 1e6)
      threadCounts.insert(st.threads.count)
      frames.append(Double(st.threads.map(\.frames.count).max() ?? 0))
      unwinds.append(Double(st.unwindNs) / 1e6)
      if let n = st.note { notes.append("stacks of busy process: \(n)") }
      Syscalls.sleep(ms: 10)
      checkInterrupt()
    }
    var euSpin: [Double] = []
    if let eu {
      _ = euStack(eu, pid: spin)
      for _ in 0..<(quick ? 3 : reps) {
        if let ms = euStack(eu, pid: spin) { euSpin.append(ms) }
        checkInterrupt()
      }
    }
    killTree(spin)
    var s = BenchRow(key: "stacks.busyStall", name: "stall of a busy thread (one capture)", unit: "ms", samples: stalls, target: stallTarget)
    s.note = spinKind + ", \(threadCounts.sorted().map(String.init).joined(separator: "/")) thread(s), \(Int(VerdictBuilder.median(frames) ?? 0)) frames; worst \(fmtNum(stalls.max() ?? 0)) ms"
    s.ratio("anchor 0.33 ms eu-stack", against: "anchor eu-stack stall", baseline: 0.33, measured: false)
    rows.append(s)
    let euSpinMed = VerdictBuilder.median(euSpin)
    var c = BenchRow(key: "stacks.busyCapture", name: "native stacks of the busy process", unit: "ms", samples: captures)
    c.note = "attach+unwind+detach \(fmtNum(VerdictBuilder.median(unwinds) ?? 0)) ms of it"
    c.ratio("eu-stack -p \(fmtNum(euSpinMed ?? 0)) ms", against: "eu-stack -p on the same process", baseline: euSpinMed)
    rows.append(c)
  }

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
    removeTree(dir)
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
    guard let actor = RunOptions.actorExecutablePath() else {
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

  // MARK: Output

  var header: String {
    "tractor-diag bench: medians over \(runs) runs\(quick ? " (--quick)" : ""); \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs; "
      + "load \(loadavg()); \(fmtNum(totalMs / 1000)) s total"
  }

  func loadavg() -> String {
    guard let b = Syscalls.readFile("/proc/loadavg", limit: 256) else { return "?" }
    return String(decoding: b, as: UTF8.self).split(separator: " ").prefix(3).joined(separator: " ")
  }

  var text: String {
    func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
    func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
    var out = header + "\n\n"
    out += pad("measurement", 50) + lpad("median", 11) + "  " + pad("target", 11) + pad("result", 7) + "ratio / baseline\n"
    out += String(repeating: "-", count: 120) + "\n"
    for r in rows {
      let med = r.median.map { fmtNum($0) + " " + r.unit } ?? "n/a"
      let res = r.pass.map { $0 ? "PASS" : "MISS" } ?? "-"
      let ratio = r.ratios.map { fmtNum($0.value) + "x " + $0.text }.joined(separator: ", ")
      out += pad(r.name, 50) + lpad(med, 11) + "  " + pad(r.targetText, 11) + pad(res, 7) + ratio + "\n"
      if let n = r.note { out += pad("", 4) + "(" + n + ")\n" }
    }
    if !notes.isEmpty {
      out += "\nnotes:\n"
      for n in notes { out += "  - " + n + "\n" }
    }
    out += "\n'anchor' ratios compare with published numbers (docs/brief anchors), not with a measurement of this run.\n"
    return out
  }

  var json: JSONValue {
    let rowsJ: [JSONValue] = rows.map { r in
      var o: [(String, JSONValue)] = [
        ("key", .string(r.key)), ("name", .string(r.name)), ("unit", .string(r.unit)),
        ("median", r.median.map { .double(round3($0)) } ?? .null),
        ("n", .int(Int64(r.samples.count))),
        ("min", r.samples.min().map { .double(round3($0)) } ?? .null),
        ("max", r.samples.max().map { .double(round3($0)) } ?? .null),
        (
          "target",
          r.target.map { t in .object([("op", .string(t.0 == .lt ? "<" : "<=")), ("value", .double(t.1))]) } ?? .null
        ),
        ("pass", r.pass.map { .bool($0) } ?? .null),
        (
          "ratios",
          .array(
            r.ratios.map {
              .object([
                ("against", .string($0.against)), ("ratio", .double(round3($0.value))), ("measuredInThisRun", .bool($0.measured)),
              ])
            })
        ),
        ("note", .from(r.note)),
      ]
      o += r.extra
      return .object(o)
    }
    return .object([
      ("runs", .int(Int64(runs))), ("quick", .bool(quick)), ("cpus", .int(Int64(sysconf(Int32(_SC_NPROCESSORS_ONLN))))),
      ("loadavg", .string(loadavg())), ("threadsAtStart", .int(Int64(threadsAtStart))), ("totalMs", .double(round3(totalMs))),
      ("rows", .array(rowsJ)), ("notes", .array(notes.map { .string($0) })),
    ])
  }
}
