import MiniJSON

/// A `PythonSnapshot` read back from its `json` (evidence.json keeps the Python view
/// of each stuck process, so that `report` rebuilds the verdict offline).
extension PythonSnapshot {
  public init?(json v: JSONValue) {
    guard let s = v["status"]?.string.flatMap(PythonStatus.init(rawValue:)) else { return nil }
    self.init(
      pid: Int32(v["pid"]?.int ?? 0), status: s, version: v["version"]?.string,
      threads: (v["threads"]?.array ?? []).map(PythonThread.init(json:)),
      loop: v["loop"]?.string.flatMap(EventLoopKind.init(rawValue:)),
      tasks: (v["tasks"]?.array ?? []).map(PythonTask.init(json:)), note: v["note"]?.string,
      elapsedNs: UInt64(max(0, (v["elapsedMs"]?.double ?? 0) * 1e6)), reads: Int(v["reads"]?.int ?? 0),
      attempts: Int(v["attempts"]?.int ?? 0))
  }
}

extension PythonFrame {
  public init(json v: JSONValue) {
    self.init(
      function: v["function"]?.string ?? "?", qualname: v["qualname"]?.string ?? v["function"]?.string ?? "?",
      file: v["file"]?.string ?? "?", line: Int(v["line"]?.int ?? 0))
  }
}

extension PythonThread {
  init(json v: JSONValue) {
    self.init(
      tid: Int32(v["tid"]?.int ?? 0), name: v["name"]?.string, frames: (v["frames"]?.array ?? []).map(PythonFrame.init(json:)))
  }
}

extension PythonTask {
  public init(json v: JSONValue) {
    self.init(
      name: v["name"]?.string ?? "?", frames: (v["frames"]?.array ?? []).map(PythonFrame.init(json:)),
      shielded: v["shielded"]?.bool ?? false, cancelCalled: v["cancelCalled"]?.bool ?? false,
      children: (v["children"]?.array ?? []).map(PythonTask.init(json:)),
      waitingOn: v["waitingOn"].flatMap { $0.object == nil ? nil : PythonWait(json: $0) })
  }
}

extension PythonWait {
  init(json v: JSONValue) {
    self.init(
      kind: v["kind"]?.string ?? "?",
      heldBy: (v["heldBy"]?.array ?? []).map { h in
        PythonHolder(
          task: h["task"]?.string, tid: h["tid"]?.int.map { Int32($0) }, frame: PythonFrame(json: h["frame"] ?? .null),
          variable: h["variable"]?.string ?? "?")
      })
  }
}
