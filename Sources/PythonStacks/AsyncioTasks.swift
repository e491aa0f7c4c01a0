/// asyncio's pending tasks (C `_asyncio.Task`), from `asyncio.tasks`' registries:
/// `_all_tasks` (3.11) or `_scheduled_tasks` (3.12/3.13), WeakSets of the tasks,
/// plus `_eager_tasks` (3.12+, a set). asyncio has no nursery tree: the list is
/// flat and nothing is "shielded" (asyncio.shield wraps a future, not a scope).
/// TaskObj offsets from _asynciomodule.c per version (x86_64).
struct AsyncioTasks {
  let reader: PythonReader
  static let maxTasks = 4096

  struct Offsets {
    var state: UInt64, coro: UInt64, name: UInt64, numCancels: UInt64
    /// 3.11/3.12: int task_must_cancel; 3.13: bit 2 of the bitfield word shared with the future's.
    var mustCancel: UInt64, mustCancelBit: UInt32?
  }

  var offsets: Offsets? {
    switch reader.layout.minor {
    case 11, 12: return Offsets(state: 88, coro: 136, name: 144, numCancels: 168, mustCancel: 160, mustCancelBit: nil)
    case 13: return Offsets(state: 96, coro: 120, name: 128, numCancels: 104, mustCancel: 100, mustCancelBit: 2)
    default: return nil
    }
  }

  func tasks(interp: UInt64, threads: [PythonReader.RawThread]) throws(ReadFailure) -> [PythonTask]? {
    let r = reader
    guard let o = offsets else { return nil }
    guard let mod = try r.dictGet(try r.mem.u64(interp + r.layout.interpModules), "asyncio.tasks") else { return [] }
    let globals = try r.mem.u64(mod + 16)  // md_dict
    var objs: [UInt64] = []
    for name in ["_all_tasks", "_scheduled_tasks"] {
      guard let weakSet = try r.dictGet(globals, name),
        let data = try r.dictLookup(try r.instanceDict(weakSet), "data")
      else { continue }
      for ref in try r.setItems(data, limit: AsyncioTasks.maxTasks) {
        let target = try r.mem.u64(ref + 16)  // PyWeakReference.wr_object (None once dead)
        if target != 0 && target != r.noneObject { objs.append(target) }
      }
    }
    if let eager = try r.dictGet(globals, "_eager_tasks") {
      objs += try r.setItems(eager, limit: AsyncioTasks.maxTasks)
    }
    var out: [(task: PythonTask, frames: [PythonReader.RawFrame])] = []
    for t in Set(objs) where try r.typeName(t).hasSuffix("Task") {
      guard try r.mem.i32(t + o.state) == 0 else { continue }  // STATE_PENDING only
      let nameObj = try r.mem.u64(t + o.name)
      let name: String
      if nameObj != 0, try r.typeOf(nameObj) == r.unicodeType {
        name = try r.string(nameObj)
      } else if nameObj != 0, try r.typeName(nameObj) == "int" {
        name = "Task-\(try r.int(nameObj))"  // 3.12 names tasks lazily from a counter
      } else {
        name = "?"
      }
      let must = try r.mem.u32(t + o.mustCancel)
      let mustCancel = o.mustCancelBit.map { must & (1 << $0) != 0 } ?? (must != 0)
      let cancels = try r.mem.i32(t + o.numCancels)
      let coro = try r.mem.u64(t + o.coro)
      let frames = coro == 0 ? [] : try r.awaitChain(coro)
      out.append((PythonTask(
        name: name, frames: frames.map(PythonStackSession.frame), shielded: false,
        cancelCalled: mustCancel || cancels > 0, children: []), frames))
    }
    out.sort { $0.task.name < $1.task.name }
    let waits = try EventHolders(reader: r).resolve(
      tasks: out.map { EventHolders.Waiter(name: $0.task.name, frames: $0.frames) }, threads: threads)
    for (i, w) in waits { out[i].task.waitingOn = w }
    return out.map(\.task)
  }
}
