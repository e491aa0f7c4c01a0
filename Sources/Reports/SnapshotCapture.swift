import Diagnosis
import KernelEvidence
import NativeStacks
import PythonStacks
import SystemCore

/// Taking a whole snapshot (kernel, Python, native stacks): what `snapshot`
/// prints and what `watch --at/--on-stall` keeps, taken one way.
extension SnapshotReport {
  /// The kernel snapshot of `pids` (with descendants when `tree`) and, unless
  /// turned off, the Python view and native stacks of every live process,
  /// each taken as soon as its process is read (StackCapture.Alongside: the
  /// reading threads look at the stacks while the rest is still being read).
  /// A part turned off is said so in the notes.
  public static func take(
    pids: [Int32], tree: Bool, python: Bool, stacks: Bool, symbolizer: Symbolizer = .fast, maxFrames: Int = 48,
    notes: [String] = []
  ) -> SnapshotReport {
    let along = StackCapture.Alongside(python: python, native: stacks, maxFrames: maxFrames, symbolizer: symbolizer)
    let snap = KernelEvidence.snapshot(
      pids: pids, includeDescendants: tree, holdersOutside: true, alongside: python || stacks ? along.take : nil)
    var notes = notes
    for p in pids where snap.process(p) == nil { notes.append("pid \(p) exited before it could be read") }
    var report = SnapshotReport(snapshot: snap, notes: notes, requested: pids, tree: tree)
    report.adopt(along, python: python, stacks: stacks, symbolizer: symbolizer)
    return report
  }

  /// The Python views and native stacks `along` took, with their notes.
  mutating func adopt(
    _ along: StackCapture.Alongside, python: Bool, stacks: Bool, symbolizer: Symbolizer
  ) {
    if !python { notes.append("python stacks skipped (--no-python)") }
    if !stacks { notes.append("native stacks skipped (--no-stacks)") }
    let taken = along.results
    if python { self.python = taken.compactMapValues(\.python) }
    guard stacks else { return }
    stacksTaken = true
    // Taken while the snapshot was read, on two threads: the time is each
    // process's capture, summed (the snapshot's own time includes them).
    stacksNs = taken.values.reduce(0) { $0 &+ ($1.native?.elapsedNs ?? 0) &+ ($1.python?.elapsedNs ?? 0) }
    if let why = NativeStacks.unavailableReason {
      notes.append("native stacks unavailable: \(why) (/proc-only evidence)")
    }
    let writers = along.writers
    for pid in writers {
      self.stacks[pid] = ProcessStacks(
        pid: pid, threads: [], note: "stack not taken: blocked in a write, which a ptrace stop would cut short",
        elapsedNs: 0, unwindNs: 0, symbolizeNs: 0)
    }
    var denied: [Int32] = []
    var gone: [Int32] = []
    for (pid, t) in taken.sorted(by: { $0.key < $1.key }) {
      guard let st = t.native else { continue }
      self.stacks[pid] = st
      guard let note = st.note else { continue }
      if note.hasPrefix("ptrace not permitted") {
        denied.append(pid)
      } else if note.hasPrefix("no such process") || note.includes("exited") {
        gone.append(pid)
      }
    }
    if !writers.isEmpty {
      notes.append(
        "no stack for \(writers.map(String.init).joined(separator: ", ")): blocked in a write, which a ptrace stop would cut short")
    }
    if !denied.isEmpty {
      notes.append(
        "ptrace not permitted for " + denied.map(String.init).joined(separator: ", ")
          + ": /proc-only evidence (needs CAP_SYS_PTRACE or ptrace_scope 0)")
    }
    if !gone.isEmpty {
      notes.append("exited before or during stack capture: " + gone.map(String.init).joined(separator: ", "))
    }
    if symbolizer == .llvmSymbolizer,
      self.stacks.values.contains(where: { $0.threads.contains { ($0.note ?? "").includes("llvm-symbolizer") } })
    {
      notes.append("llvm-symbolizer had problems; see the threads' stack notes (fast names kept)")
    }
  }

  /// One line for a person watching a run: how many processes, which are
  /// blocked, and where the wait chains end.
  ///   "4 processes, 3 blocked (python 101 read, ...); chains end at full_pipe.py 103 (write)"
  public var summary: String {
    let s = snapshot
    func who(_ pid: Int32) -> String {
      let name = s.identity(of: pid)?.name ?? "pid \(pid)"
      let call = s.process(pid)?.threads.first?.syscall?.name
      return "\(name) \(pid)" + (call.map { " (\($0))" } ?? "")
    }
    let blocked = s.processes.filter(\.isBlocked)
    var out = "\(s.processes.count) processes, \(blocked.count) blocked"
    if !blocked.isEmpty {
      out += " (" + blocked.prefix(4).map { who($0.pid) }.joined(separator: ", ") + (blocked.count > 4 ? ", ..." : "") + ")"
    }
    let ends = s.chains.compactMap(\.last)
    var seen = Set<Int32>()
    let terminals = ends.filter { seen.insert($0).inserted }
    if !terminals.isEmpty {
      out += "; chains end at " + terminals.prefix(3).map(who).joined(separator: ", ")
    } else if !s.cycles.isEmpty {
      out += "; \(s.cycles.count) wait cycle(s)"
    } else {
      out += "; no wait chain"
    }
    return out
  }
}

extension SnapshotReport {
  /// What `watch --at/--on-stall` takes: `snapshot PIDS --tree` with Python
  /// and native stacks (neither with `stacks` false), as JSON and one line.
  public static func watchSnapshotter(stacks: Bool) -> WatchSnapshotter {
    { pids in
      let r = SnapshotReport.take(pids: pids, tree: true, python: stacks, stacks: stacks)
      return WatchSnapshot(json: r.json, summary: r.summary)
    }
  }
}
