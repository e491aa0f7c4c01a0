/// For tasks waiting in `Event.wait()` (trio or asyncio), the frames elsewhere that
/// hold the same Event in a local variable: who could set it. The Event is the
/// wait frame's `self`; holders are found by pointer equality over the locals of
/// every other task's await chain and every thread's frames (direct locals only).
struct EventHolders {
  let reader: PythonReader

  struct Waiter {
    var name: String
    var frames: [PythonReader.RawFrame]
  }

  static func eventKind(_ c: PythonReader.CodeInfo) -> String? {
    guard c.qualname == "Event.wait" else { return nil }
    if c.file.hasSuffix("trio/_sync.py") { return "trio.Event" }
    if c.file.hasSuffix("asyncio/locks.py") { return "asyncio.Event" }
    return nil
  }

  /// Waits by task index.
  func resolve(tasks: [Waiter], threads: [PythonReader.RawThread]) throws(ReadFailure) -> [Int: PythonWait] {
    var waits: [Int: (kind: String, event: UInt64)] = [:]
    for (i, t) in tasks.enumerated() {
      guard let f = t.frames.first(where: { EventHolders.eventKind($0.code) != nil }),
        let event = try reader.local(f, "self")
      else { continue }
      waits[i] = (EventHolders.eventKind(f.code)!, event)
    }
    guard !waits.isEmpty else { return [:] }
    // One pass over every frame's locals: event address -> holders.
    let wanted = Set(waits.values.map(\.event))
    var holders: [UInt64: [(owner: Int?, holder: PythonHolder)]] = [:]
    func scan(_ f: PythonReader.RawFrame, task: Int?, holder: (String?, Int32?)) throws(ReadFailure) {
      for (name, v) in try reader.locals(f) where wanted.contains(v) {
        let h = PythonHolder(task: holder.0, tid: holder.1, frame: PythonStackSession.frame(f), variable: name)
        holders[v, default: []].append((task, h))
      }
    }
    for (i, t) in tasks.enumerated() {
      for f in t.frames { try scan(f, task: i, holder: (t.name, nil)) }
    }
    for th in threads {
      for f in th.frames { try scan(f, task: nil, holder: (nil, th.tid)) }
    }
    var out: [Int: PythonWait] = [:]
    for (i, w) in waits {
      // The waiter's own frames (its `self`, the argument it was given) are not who sets it.
      let others = (holders[w.event] ?? []).filter { $0.owner != i }.map(\.holder)
      out[i] = PythonWait(kind: w.kind, heldBy: others)
    }
    return out
  }
}
