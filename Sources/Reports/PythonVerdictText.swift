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

  /// The native frames of a Python process down to the first one in the
  /// interpreter (python3.X or libpython): the C call a Python frame made.
  /// Frames read "symbol+off (module+off)", as NativeStacks renders them.
  static func nativeAboveInterpreter(_ stack: [String]) -> [String] {
    Array(stack.prefix { !($0.contains("(python3") || $0.contains("(libpython")) })
  }

  /// One line for a Python process that is not the terminal: its first
  /// stuck task, else its main thread's innermost frames.
  static func oneLine(_ b: BlockedOn) -> String? {
    guard let py = b.python else { return nil }
    if let t = py.tasks.first {
      let more = py.tasks.count + py.moreTasks - 1
      return "python " + t.summary(frames: 2) + (more > 0 ? " (+\(more) more tasks)" : "")
    }
    guard !py.mainFrames.isEmpty else { return nil }
    return "python " + py.mainFrames.prefix(3).map(PythonEvidenceText.frame).joined(separator: " ← ")
  }
}
