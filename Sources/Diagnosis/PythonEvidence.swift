import MiniJSON
import PythonStacks

/// The Python view of the stuck processes in a body of evidence: taken live with
/// the kernel evidence (read with process_vm_readv, the target never stops), kept
/// in evidence.json under `"python": {"PID": PythonSnapshot.json}` so that
/// `report` rebuilds the same verdict offline.
extension Evidence {
  var pythonJSON: JSONValue {
    .object(python.sorted { $0.key < $1.key }.map { (String($0.key), $0.value.json) })
  }

  static func python(json v: JSONValue?) -> [Int32: PythonSnapshot] {
    var out: [Int32: PythonSnapshot] = [:]
    for (k, val) in v?.object ?? [] {
      guard let pid = Int32(k), var s = PythonSnapshot(json: val) else { continue }
      s.pid = pid
      out[pid] = s
    }
    return out
  }

  /// The Python lines of a blocked-on entry, nil for a process that is not CPython.
  func pythonBlocked(_ pid: Int32) -> PythonBlocked? { python[pid].map(PythonBlocked.init) }
}

/// What a stuck Python process shows in `blockedOn`: its stuck tasks (the leaves
/// of the task tree, the uncancellable and the waiting first) and the main
/// thread's top frames. Frames innermost first.
public struct PythonBlocked: Sendable {
  public var version: String?
  public var status: PythonStatus
  public var note: String?
  public var loop: EventLoopKind?
  public var mainFrames: [PythonFrame]
  /// Tasks without children (each a flat copy: `children` empty), at most `maxTasks`.
  public var tasks: [PythonTask]
  /// Leaf tasks not listed.
  public var moreTasks: Int

  static let maxTasks = 4
  static let maxFrames = 8

  init(_ s: PythonSnapshot) {
    version = s.version
    status = s.status
    note = s.note
    loop = s.loop
    mainFrames = Array((s.threads.first?.frames ?? []).prefix(Self.maxFrames))
    let leaves = PythonBlocked.stuckTasks(s)
    tasks = leaves.prefix(Self.maxTasks).map { t in
      var c = t
      c.children = []
      c.frames = Array(t.frames.prefix(Self.maxFrames))
      return c
    }
    moreTasks = max(0, leaves.count - Self.maxTasks)
  }

  /// The tasks that show why a process does not finish: the leaves of the tree
  /// (a parent only waits for its children), the ones under a shield after their
  /// cancel first, then the ones waiting on an event.
  static func stuckTasks(_ s: PythonSnapshot) -> [PythonTask] {
    let leaves = s.allTasks.filter { $0.children.isEmpty }
    // trio's own tasks ("<TrioToken.run_sync_soon task>", "<init>") and tasks
    // waiting only inside the loop's code (a listener's accept) say least.
    func rank(_ t: PythonTask) -> Int {
      if t.isUncancellable { return 0 }
      if t.waitingOn != nil { return 1 }
      if t.name.hasPrefix("<") { return 4 }
      return t.frames.contains { !PythonEvidenceText.isLoopInternal($0) } ? 2 : 3
    }
    return leaves.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
  }

  public var json: JSONValue {
    .object([
      ("version", .from(version)), ("status", .string(status.rawValue)), ("note", .from(note)),
      ("loop", .from(loop?.rawValue)), ("mainThread", .array(mainFrames.map(\.json))),
      ("tasks", .array(tasks.map(\.json))), ("moreTasks", .int(Int64(moreTasks))),
    ])
  }
}

extension PythonTask {
  /// Under a shielded cancel scope after cancel was called on it: the cancel
  /// cannot reach it until the shielded wait ends by itself.
  public var isUncancellable: Bool { shielded && cancelCalled }

  /// "task NAME [shielded, cancel called] at F (file:line) ← G (file:line)".
  public func summary(frames n: Int = 3) -> String {
    var flags: [String] = []
    if shielded { flags.append("shielded") }
    if cancelCalled { flags.append("cancel called") }
    let at = PythonEvidenceText.frames(frames, n)
    return "task \(name)" + (flags.isEmpty ? "" : " [" + flags.joined(separator: ", ") + "]") + (at.isEmpty ? "" : " at " + at)
  }

  /// "waits on a trio.Event held by task T in F (file:line) as ev", nil when not waiting on one.
  public var waitText: String? {
    guard let w = waitingOn else { return nil }
    let holders = w.heldBy.map { h in
      (h.task.map { "task \($0)" } ?? h.tid.map { "thread \($0)" } ?? "?") + " in " + PythonEvidenceText.frame(h.frame)
        + " as \(h.variable)"
    }
    return "waits on a \(w.kind) " + (holders.isEmpty ? "no other frame holds" : "held by " + holders.joined(separator: "; "))
  }
}

/// Frame text shared by verdict evidence and blocked-on lines.
public enum PythonEvidenceText {
  /// "Event.wait (trio/_sync.py:76)": site-packages and stdlib paths shortened to their import path.
  public static func frame(_ f: PythonFrame) -> String { "\(f.qualname) (\(shortPath(f.file)):\(f.line))" }

  /// The innermost frame, then up to `n - 1` frames outside the event loop's own
  /// code (trio's traps and scheduler say nothing about where the task waits):
  /// "_async_yield (trio/_core/_traps.py:22) ← … keep_waiting (x.py:31)".
  public static func frames(_ frames: [PythonFrame], _ n: Int) -> String {
    guard n > 0, let first = frames.first else { return "" }
    let own = frames.dropFirst().filter { !isLoopInternal($0) }.prefix(n - 1)
    let skipped = own.first.map { f in frames.firstIndex { $0 == f }! > 1 } ?? (frames.count > 1)
    return ([frame(first)] + (skipped ? ["…"] : []) + own.map(frame)).joined(separator: " ← ")
  }

  /// The first frame of a task that is not the event loop's: where the task itself waits.
  public static func ownFrame(_ frames: [PythonFrame]) -> PythonFrame? {
    frames.first { !isLoopInternal($0) } ?? frames.first
  }

  static func isLoopInternal(_ f: PythonFrame) -> Bool {
    let p = shortPath(f.file)
    return p.hasPrefix("trio/") || p.hasPrefix("asyncio/")
  }

  static func shortPath(_ path: String) -> String {
    if let r = path.ranges(of: "/site-packages/").last { return String(path[r.upperBound...]) }
    if let r = path.firstRange(of: "/lib/python3."), let slash = path[r.upperBound...].firstIndex(of: "/") {
      return String(path[path.index(after: slash)...])
    }
    return path
  }
}

extension TerminalContext {
  /// The terminal's Python view, when it is a CPython process.
  public var python: PythonSnapshot? { evidence?.python[pid] }

  /// Python lines of every verdict's evidence: the stuck tasks (with what they
  /// wait on) and the main thread's innermost frames.
  var pythonEvidence: [String] {
    guard let py = python else { return [] }
    var ev: [String] = []
    for t in PythonBlocked.stuckTasks(py).prefix(2) {
      ev.append("python \(pid): " + t.summary())
      if let w = t.waitText { ev.append("python \(pid): \(t.name) " + w) }
    }
    if let main = py.threads.first, !main.frames.isEmpty {
      ev.append("python \(pid) main thread: " + main.frames.prefix(4).map(PythonEvidenceText.frame).joined(separator: " ← "))
    }
    return ev
  }
}
