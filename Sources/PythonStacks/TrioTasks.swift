/// trio's task tree, read from the runner found in the `run` frame of
/// trio/_core/_run.py (its local `runner`). Runner, Task, CancelStatus and
/// CancelScope are attrs classes with `__slots__` (0.22 and 0.3x alike), so
/// every field is read through the type's slot table, by name.
struct TrioTasks {
  let reader: PythonReader
  static let maxTasks = 4096, maxScopeDepth = 256

  static func isRunFrame(_ c: PythonReader.CodeInfo) -> Bool {
    c.name == "run" && c.file.hasSuffix("trio/_core/_run.py")
  }

  final class SlotCache {
    var byType: [UInt64: [String: UInt64]] = [:]
  }
  let slots = SlotCache()

  /// Slot `name` of a slotted object: nil when the slot does not exist, is unset or None.
  func slot(_ obj: UInt64, _ name: String) throws(ReadFailure) -> UInt64? {
    let type = try reader.typeOf(obj)
    let table: [String: UInt64]
    if let t = slots.byType[type] {
      table = t
    } else {
      table = try reader.slotOffsets(type: type)
      slots.byType[type] = table
    }
    guard let off = table[name] else { return nil }
    let v = try reader.mem.u64(obj + off)
    return v == 0 || v == reader.noneObject ? nil : v
  }

  func isTrue(_ obj: UInt64?) -> Bool { obj != nil && obj == reader.trueObject }

  func tasks(runFrame: PythonReader.RawFrame, threads: [PythonReader.RawThread]) throws(ReadFailure) -> [PythonTask] {
    let r = reader
    guard let runner = try r.local(runFrame, "runner"), let set = try slot(runner, "tasks") else { return [] }
    var taskObjs: [UInt64] = []
    for k in try r.setItems(set, limit: TrioTasks.maxTasks) where try r.typeName(k) == "Task" { taskObjs.append(k) }
    struct Raw {
      var obj: UInt64, parentNursery: UInt64?
      var task: PythonTask
      var frames: [PythonReader.RawFrame]
    }
    var all: [Raw] = []
    var owner: [UInt64: UInt64] = [:]  // nursery -> the task that opened it
    for t in taskObjs.prefix(TrioTasks.maxTasks) {
      let name = try slot(t, "name").map { (n) throws(ReadFailure) -> String in try r.string(n) } ?? "?"
      if let kids = try slot(t, "_child_nurseries") {
        for n in try r.sequence(kids, list: true, limit: 1024) { owner[n] = t }
      }
      let (shielded, cancelCalled) = try cancelState(t)
      let frames = try slot(t, "coro").map { (c) throws(ReadFailure) -> [PythonReader.RawFrame] in try r.awaitChain(c) } ?? []
      all.append(Raw(
        obj: t, parentNursery: try slot(t, "_parent_nursery"),
        task: PythonTask(
          name: name, frames: frames.map(PythonStackSession.frame), shielded: shielded, cancelCalled: cancelCalled,
          children: []),
        frames: frames))
    }
    let waits = try EventHolders(reader: r).resolve(
      tasks: all.map { EventHolders.Waiter(name: $0.task.name, frames: $0.frames) }, threads: threads)
    for (i, w) in waits { all[i].task.waitingOn = w }
    var childrenOf: [UInt64: [Int]] = [:]
    var roots: [Int] = []
    for (i, t) in all.enumerated() {
      if let n = t.parentNursery, let p = owner[n], p != t.obj { childrenOf[p, default: []].append(i) } else { roots.append(i) }
    }
    func build(_ i: Int, depth: Int) -> PythonTask {
      var t = all[i].task
      if depth < 64 {
        t.children = (childrenOf[all[i].obj] ?? []).map { build($0, depth: depth + 1) }.sorted { $0.name < $1.name }
      }
      return t
    }
    return roots.map { build($0, depth: 0) }.sorted { $0.name < $1.name }
  }

  /// Walks Task._cancel_status -> CancelStatus._scope / ._parent outward.
  func cancelState(_ task: UInt64) throws(ReadFailure) -> (shielded: Bool, cancelCalled: Bool) {
    var shielded = false, called = false
    var status = try slot(task, "_cancel_status")
    var depth = 0
    while let s = status, depth < TrioTasks.maxScopeDepth {
      if let scope = try slot(s, "_scope") {
        if isTrue(try slot(scope, "_shield")) { shielded = true }
        if isTrue(try slot(scope, "_cancel_called")) { called = true }
      }
      status = try slot(s, "_parent")
      depth += 1
    }
    return (shielded, called)
  }
}
