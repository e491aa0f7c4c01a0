import Diagnosis
import Glibc
import KernelEvidence
import PythonStacks
import Supervision
import SystemCore

/// Python stacks (issue 11): `snapshot ROOT --tree` of a 6-process Python tree
/// against `py-spy dump --pid ROOT --subprocesses`, the Python view per process,
/// and the longest pause a capture causes in a running interpreter.
extension BenchRunner {
  /// A root and 5 children (subprocess.Popen) parked in Event.wait, the root in Popen.wait.
  static let pythonTreeScript = """
    import subprocess, sys, threading
    if sys.argv[-1] == "child":
        threading.Event().wait()
    else:
        kids = [subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[1], "child"]) for _ in range(5)]
        kids[0].wait()
    """

  /// A thread that never blocks and logs every gap in its own progress longer
  /// than 0.2 ms ("END_NS GAP_NS", CLOCK_MONOTONIC) to argv[1].
  static let gapSpinnerScript = """
    import sys, time
    f = open(sys.argv[1], "w", buffering=1)
    now = time.monotonic_ns
    prev = now()
    while True:
        t = now()
        if t - prev > 200_000:
            f.write(f"{t} {t - prev}\\n")
        prev = t
    """

  /// The project venv's py-spy (`make bench` installs it), found from the working
  /// directory or from this executable (.build/<config>/tractor-diag).
  func pySpyPath() -> String? {
    var candidates = [".venv/bin/py-spy"]
    if let exe = ProcessControl.executablePath(of: getpid()) {
      var parts = exe.split(separator: "/", omittingEmptySubsequences: false)
      if parts.count > 3 {
        parts.removeLast(3)
        candidates.append(parts.joined(separator: "/") + "/.venv/bin/py-spy")
      }
    }
    return candidates.first { access($0, X_OK) == 0 }
  }

  /// Wall time (spawn to reap) of one command, ms; nil when it exited with
  /// another status than `expect` or took over 20 s.
  func wallMs(_ argv: [String], expect: Int32 = 0) -> Double? {
    let t0 = nowNs()
    guard var child = spawn(argv, newGroup: true) else { return nil }
    guard let done = waitChild(&child, since: t0, timeoutMs: 20_000) else {
      notes.append("\(argv[0]) took more than 20 s; killed")
      return nil
    }
    if done.status != .exited(expect) {
      let msg = "\(argv.prefix(2).joined(separator: " ")) exited with status \(done.status.code)"
      if !notes.contains(msg) { notes.append(msg) }
      return nil
    }
    return Double(done.ns) / 1e6
  }

  func pythonStackCosts() {
    let keys = [
      ("python.treeSnapshot", "snapshot --tree, 6 Python processes (Python + native)"),
      ("python.treeVsPySpy", "  ... / py-spy dump --subprocesses, same run"),
      ("python.framesPerProcess", "Python frames and tasks, per process"),
      ("python.busyPause", "longest pause of a busy interpreter (one Python capture)"),
      ("python.startup", "  ... of which start-up and exit (snapshot of no process)"),
    ]
    let py = (["/usr/bin/python3.11", "/usr/bin/python3"] as [String]).first { access($0, X_OK) == 0 }
    guard let py, let root = spawn([py, "-c", Self.pythonTreeScript, Self.pythonTreeScript], newGroup: true)?.pid else {
      for (k, n) in keys { rows.append(BenchRow(key: k, name: n, unit: "ms", skipped: "no python3 to start a tree")) }
      return
    }
    live.append(root)
    // Ready: 5 children, all six sleeping for 3 polls in a row (imports done).
    var calm = 0
    let end = nowNs() + 10_000_000_000
    while nowNs() < end && calm < 3 {
      checkInterrupt()
      let d = KernelEvidence.descendants(of: root)
      calm = d.count == 5 && ([root] + d).allSatisfy({ TreeReaper.state($0) == "S" }) ? calm + 1 : 0
      ProcessControl.sleep(ms: 20)
    }
    let pids = [root] + KernelEvidence.descendants(of: root)
    guard calm >= 3 else {
      killTree(root)
      for (k, n) in keys { rows.append(BenchRow(key: k, name: n, unit: "ms", skipped: "the Python tree did not come up in 10 s")) }
      return
    }
    let selfExe = ProcessControl.executablePath(of: getpid()) ?? "/proc/self/exe"
    let ours = [selfExe, "snapshot", "\(root)", "--tree", "--format", "json"]
    let spy = pySpyPath()
    if spy == nil { notes.append("py-spy not found at .venv/bin/py-spy (make bench installs it): no py-spy ratio") }
    // The same command line with a pid that cannot exist (exit 65 after the
    // parse): the fixed cost of starting the tool, in every snapshot.
    let none = [selfExe, "snapshot", "\(Int32.max)", "--tree", "--format", "json"]
    var oursMs: [Double] = []
    var spyMs: [Double] = []
    var ratios: [Double] = []
    var startMs: [Double] = []
    _ = wallMs(ours)
    if let spy { _ = wallMs([spy, "dump", "--pid", "\(root)", "--subprocesses"]) }
    for _ in 0..<max(runs, 3) {
      checkInterrupt()
      guard let o = wallMs(ours) else { continue }
      oursMs.append(o)
      if let n = wallMs(none, expect: 65) { startMs.append(n) }
      if let spy, let s = wallMs([spy, "dump", "--pid", "\(root)", "--subprocesses"]) {
        spyMs.append(s)
        ratios.append(o / s)
      }
    }
    var perProcess: [Double] = []
    var reads: [Double] = []
    let session = PythonStackSession()
    _ = session.capture(pids: pids)  // warm-up: ELF symbols parsed once per binary
    for _ in 0..<max(runs, 3) {
      for (_, s) in session.capture(pids: pids) where s.status == .ok {
        perProcess.append(Double(s.elapsedNs) / 1e6)
        reads.append(Double(s.reads))
      }
    }
    killTree(root)

    var t = BenchRow(key: keys[0].0, name: keys[0].1, unit: "ms", samples: oursMs)
    t.note = "tractor-diag snapshot ROOT --tree --format json, spawn to reap"
    t.ratio("py-spy \(fmtNum(VerdictBuilder.median(spyMs) ?? 0)) ms", against: "py-spy dump --subprocesses", baseline: VerdictBuilder.median(spyMs))
    rows.append(t)
    var st = BenchRow(key: keys[4].0, name: keys[4].1, unit: "ms", samples: startMs)
    st.note = "spawn to reap of `snapshot \(Int32.max) --tree`: exec, loader, Swift runtime, argument parsing, exit 65"
    rows.append(st)
    if spy != nil && !ratios.isEmpty {
      var r = BenchRow(key: keys[1].0, name: keys[1].1, unit: "x", samples: ratios, target: (.le, 0.3))
      r.note = "per repetition: ours / py-spy"
      rows.append(r)
    } else {
      rows.append(BenchRow(key: keys[1].0, name: keys[1].1, unit: "x", skipped: "py-spy not available", target: (.le, 0.3)))
    }
    var f = BenchRow(key: keys[2].0, name: keys[2].1, unit: "ms", samples: perProcess, target: (.le, 1))
    f.note = "6 processes of CPython \(py.hasSuffix("3.11") ? "3.11" : "3"), \(Int(VerdictBuilder.median(reads) ?? 0)) reads (median)"
    rows.append(f)
    checkInterrupt()
    busyPause(python: py, key: keys[3])
  }

  /// The longest pause a Python capture causes in a thread spinning in Python:
  /// the spinner logs its own gaps; for each capture, the longest gap ending in
  /// its window. The same windows without a capture give the machine's own noise.
  func busyPause(python py: String, key: (String, String)) {
    let log = baseDir + "/gaps-\(getpid()).txt"
    guard let spin = spawn([py, "-c", Self.gapSpinnerScript, log], newGroup: true)?.pid else {
      rows.append(BenchRow(key: key.0, name: key.1, unit: "ms", skipped: "no spinner could be started"))
      return
    }
    live.append(spin)
    let end = nowNs() + 10_000_000_000
    while nowNs() < end && access(log, R_OK) != 0 { ProcessControl.sleep(ms: 5) }
    ProcessControl.sleep(ms: 100)  // a measurement pause: let the loop run hot
    var withCapture: [(UInt64, UInt64)] = []
    var without: [(UInt64, UInt64)] = []
    let session = PythonStackSession()
    _ = session.capture(pid: spin)
    for _ in 0..<max(runs, 5) {
      checkInterrupt()
      let a = nowNs()
      _ = session.capture(pid: spin)
      let b = nowNs()
      withCapture.append((a, b))
      ProcessControl.sleep(ms: 10)
      let c = nowNs()
      ProcessControl.sleep(ms: max(1, Int((b - a) / 1_000_000)))
      without.append((c, nowNs()))
      ProcessControl.sleep(ms: 10)
    }
    ProcessControl.sleep(ms: 20)  // the spinner's last lines reach the file
    killTree(spin)
    var gaps: [(end: UInt64, gap: UInt64)] = []
    if let bytes = Syscalls.readFile(log) {
      for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
        let f = line.split(separator: " ")
        if f.count == 2, let e = UInt64(f[0]), let g = UInt64(f[1]) { gaps.append((e, g)) }
      }
    }
    unlink(log)
    func longest(_ w: (UInt64, UInt64)) -> Double {
      Double(gaps.filter { $0.end > w.0 && $0.end - $0.gap < w.1 }.map(\.gap).max() ?? 0) / 1e6
    }
    var row = BenchRow(key: key.0, name: key.1, unit: "ms", samples: withCapture.map(longest))
    let noise = VerdictBuilder.median(without.map(longest)) ?? 0
    row.note = "python3 busy loop, gaps > 0.2 ms it saw itself; same windows without a capture: \(fmtNum(noise)) ms (0 = none); worst \(fmtNum(withCapture.map(longest).max() ?? 0)) ms"
    rows.append(row)
  }
}
