import Diagnosis
import PythonStacks

/// The Python lines under one blocked-on entry of a verdict: the stuck tasks
/// (flags, what they wait on, innermost frames) and the main thread's top frames.
enum PythonVerdictText {
  static func blockedOn(_ b: BlockedOn) -> String {
    guard let py = b.python else { return "" }
    let pad = "      "
    var out = pad + "python " + (py.version.map { "CPython \($0)" } ?? "CPython")
    out += (py.status == .ok ? "" : ", \(py.status.rawValue)") + (py.loop.map { ", \($0.rawValue)" } ?? "")
    out += py.note.map { ": \($0)" } ?? ""
    out += "\n"
    for t in py.tasks {
      out += pad + "  " + t.summary(frames: 0) + "\n"
      if let w = t.waitText { out += pad + "    " + w + "\n" }
      out += pad + "      at " + PythonEvidenceText.frames(t.frames, 4) + "\n"
    }
    if py.moreTasks > 0 { out += pad + "  (+\(py.moreTasks) more tasks)\n" }
    if !py.mainFrames.isEmpty {
      out += pad + "  main thread: " + py.mainFrames.prefix(4).map(PythonEvidenceText.frame).joined(separator: " ← ") + "\n"
    }
    return out
  }
}
