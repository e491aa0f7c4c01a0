/// Await chains of coroutines that are not on any thread's stack (suspended
/// tasks of trio or asyncio).
extension PythonReader {
  static let maxAwaitDepth = 64

  /// The coroutine frames a task awaits through, innermost first: from the task's
  /// coroutine follow each suspended frame's awaited object (top of its value stack,
  /// as `_PyGen_yf` does) while it is a coroutine or generator.
  func awaitChain(_ coro: UInt64) throws(ReadFailure) -> [RawFrame] {
    let l = layout
    var out: [RawFrame] = []
    var obj = coro
    for _ in 0..<PythonReader.maxAwaitDepth {
      let tn = try typeName(obj)
      guard tn == "coroutine" || tn == "generator" else { break }
      let state = try mem.i8(obj + l.genFrameState)
      guard state < 1 else { break }  // completed or cleared: no frame
      let iframe = obj + l.genIFrame
      guard let f = try frame(iframe) else { break }
      out.append(f)
      var awaiting: Bool
      if let yf = l.stateSuspendedYieldFrom {
        awaiting = state == yf
      } else {
        awaiting = false
        if state == l.stateSuspended {
          let next = try mem.u16(try mem.u64(iframe + l.frameInstr) + 2)
          awaiting = l.resumeOpcodes.contains(UInt8(next & 0xff)) && next >> 8 >= 2
        }
      }
      guard awaiting else { break }
      if let sp = l.frameStackPointer {  // 3.14 (untested here): tagged refs below stackpointer
        let top = try mem.u64(iframe + sp)
        guard top > iframe + l.frameLocalsPlus else { break }
        obj = try mem.u64(top - 8) & ~3
      } else {
        let top = try mem.i32(iframe + l.frameStackTop)
        guard top >= 1, top < 1 << 16 else { break }
        obj = try mem.u64(iframe + l.frameLocalsPlus + UInt64(top - 1) * 8)
      }
      if obj == 0 { break }
    }
    return out.reversed()
  }
}
