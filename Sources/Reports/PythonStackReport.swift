import Diagnosis
import MiniJSON
import PythonStacks

/// Rendering of the Python view of each process in a snapshot: threads with their
/// Python frames (innermost first) and trio's task tree.
extension SnapshotReport {
  /// `"python"` of one process: null when not taken or not a Python process.
  func pythonJSON(_ pid: Int32) -> JSONValue {
    guard let py = python[pid], py.status != .notPython else { return .null }
    return py.json
  }

  /// "python stacks:" section; empty when none was taken.
  var pythonText: String {
    let shown = snapshot.processes.compactMap { p in python[p.pid].map { (p, $0) } }.filter { $0.1.status != .notPython }
    guard !shown.isEmpty else { return "" }
    var out = "\npython stacks:\n"
    for (p, py) in shown { out += PythonStackText.render(py, comm: p.comm) }
    return out
  }
}

/// Text of one `PythonSnapshot`, for `snapshot` and (later) verdicts.
public enum PythonStackText {
  /// "Event.wait (trio/_sync.py:76)": paths inside site-packages or the standard
  /// library shortened to their import path (JSON keeps the full path).
  public static func frameText(_ f: PythonFrame) -> String { PythonEvidenceText.frame(f) }

  public static func render(_ py: PythonSnapshot, comm: String) -> String {
    var out = "pid \(py.pid) \(comm): "
    out += py.version.map { "CPython \($0)" } ?? "CPython"
    out += py.status == .ok ? "" : ", \(py.status.rawValue)"
    out += " (\(Double(py.elapsedNs / 10_000) / 100) ms, \(py.reads) reads"
    out += py.attempts > 1 ? ", \(py.attempts) attempts)" : ")"
    out += py.note.map { ": \($0)" } ?? ""
    out += "\n"
    for t in py.threads {
      out += "  thread \(t.tid)" + (t.name.map { " \"\($0)\"" } ?? "")
      out += t.frames.isEmpty ? ": no Python frames\n" : ":\n"
      for f in t.frames { out += "    " + frameText(f) + "\n" }
    }
    if let loop = py.loop {
      out += "  \(loop.rawValue) tasks" + (py.tasks.isEmpty ? ": none listed\n" : ":\n")
      for t in py.tasks { task(t, depth: 2, into: &out) }
    }
    return out
  }

  static func task(_ t: PythonTask, depth: Int, into out: inout String) {
    let pad = String(repeating: "  ", count: depth)
    var flags: [String] = []
    if t.shielded { flags.append("shielded") }
    if t.cancelCalled { flags.append("cancel called") }
    out += pad + "task \(t.name)" + (flags.isEmpty ? "" : " [" + flags.joined(separator: ", ") + "]") + "\n"
    if let w = t.waitText { out += pad + "  " + w + "\n" }
    for f in t.frames { out += pad + "    " + frameText(f) + "\n" }
    for c in t.children { task(c, depth: depth + 1, into: &out) }
  }
}
