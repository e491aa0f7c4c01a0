import Diagnosis
import Glibc
import KernelEvidence
import NativeStacks
import Supervision
import SystemCore

extension BenchRunner {
  // MARK: 5. Snapshot and stacks

  /// Starts a 17-process chain (16 waiters + 1 sleeper) as its own process
  /// group; returns the root and the kind of tree.
  func startChain(python: String?) -> (root: Int32, kind: String)? {
    if let py = python {
      if let root = spawn([py, "-c", ForkChainScript.python], newGroup: true)?.pid {
        live.append(root)
        if waitChainReady(root, leafExe: "python") { return (root, "python3 os.fork chain, 16 in os.waitpid + 1 in time.sleep") }
        notes.append("python3 chain did not come up within 10 s; using a /bin/sh chain")
        killTree(root)
      }
    }
    // /bin/sh fallback: 16 shells in `wait` and one `sleep`.
    let sleep = access("/bin/sleep", X_OK) == 0 ? "/bin/sleep" : (Syscalls.findExecutable("sleep") ?? "sleep")
    let sh = "n=$1; if [ \"$n\" -gt 0 ]; then /bin/sh -c \"$0\" \"$0\" $((n-1)) & wait; else exec \(sleep) 600; fi"
    guard let root = spawn(["/bin/sh", "-c", sh, sh, "16"], newGroup: true)?.pid else { return nil }
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
        ([root] + d).allSatisfy({ TreeReaper.state($0) == "S" })
      {
        ProcessControl.sleep(ms: 20)
        return true
      }
      if TreeReaper.state(root).map({ $0 == "Z" }) ?? true {  // it died: the cleanup reaps it
        live.removeAll { $0 == root }
        return false
      }
      ProcessControl.sleep(ms: 5)
    }
    return false
  }

  /// `eu-stack -p PID` wall time (spawn to reap), ms; nil when it failed.
  func euStack(_ path: String, pid: Int32) -> Double? {
    let t0 = nowNs()
    guard var child = spawn([path, "-p", "\(pid)"], newGroup: true) else { return nil }
    guard let done = waitChild(&child, since: t0, timeoutMs: 10_000) else {
      notes.append("eu-stack -p \(pid) took more than 10 s; killed")
      return nil
    }
    let ns = done.ns
    if done.status != .exited(0) {
      let msg = "eu-stack -p \(pid) exited with status \(done.status.code)"
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
    if let py = python, let p = spawn([py, "-c", "while True: pass"], newGroup: true)?.pid {
      live.append(p)
      let end = nowNs() + 10_000_000_000
      while nowNs() < end && !BenchRunner.exeName(p).hasPrefix("python") && TreeReaper.state(p) != nil { ProcessControl.sleep(ms: 5) }
      if BenchRunner.exeName(p).hasPrefix("python") {
        spinner = p
        spinKind = "python3 -c 'while True: pass'"
      } else {
        killTree(p)
      }
    }
    if spinner == nil, let p = spawn(["/bin/sh", "-c", "while :; do :; done"], newGroup: true)?.pid {
      live.append(p)
      spinner = p
      spinKind = "/bin/sh -c 'while :; do :; done'"
    }
    guard let spin = spinner else {
      rows.append(BenchRow(key: "stacks.busyStall", name: "stall of a busy thread (one capture)", unit: "ms", skipped: "no busy process could be started", target: stallTarget))
      return
    }
    ProcessControl.sleep(ms: 100)  // let it reach its loop
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
      ProcessControl.sleep(ms: 10)
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

}
