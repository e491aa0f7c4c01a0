/// Plain-text rendering of captured stacks.
public enum StackText {
  /// One header per thread and one line per frame, e.g.
  ///   thread 1234 "python3" state S wchan pipe_read
  ///     #0 read+0x12 (libc.so.6+0xf7a5e)
  public static func render(_ s: ProcessStacks) -> String {
    var out = "native stacks of pid \(s.pid): \(s.threads.count) thread(s), "
    out += "\(ms(s.elapsedNs)) total, \(ms(s.unwindNs)) attached/unwinding"
    if let note = s.note { out += "\n  note: \(note)" }
    out += "\n"
    for t in s.threads {
      out += "thread \(t.tid) \"\(t.name)\" state \(t.state)"
      if let w = t.wchan { out += " wchan \(w)" }
      if t.stallNs > 0 { out += " stopped \(us(t.stallNs))" }
      out += "\n"
      if let n = t.note { out += "  note: \(n)\n" }
      if t.frames.isEmpty, let sc = t.syscall { out += "  syscall: \(sc)\n" }
      for (i, f) in t.frames.enumerated() {
        out += "  #\(i) " + frameText(f) + "\n"
      }
    }
    return out
  }

  /// "symbol+0xoff (module+0xoff) at file:line" with "??" for unknowns.
  public static func frameText(_ f: StackFrame) -> String {
    var line = ""
    if let sym = f.symbol {
      line += f.offset > 0 ? "\(sym)+0x\(String(f.offset, radix: 16))" : sym
    } else {
      line += "?? 0x\(String(f.pc, radix: 16))"
    }
    if let m = f.module {
      if let off = f.moduleOffset {
        line += " (\(m)+0x\(String(off, radix: 16)))"
      } else {
        line += " (\(m))"
      }
    }
    if let loc = f.location { line += " at \(loc)" }
    return line
  }

  static func ms(_ ns: UInt64) -> String {
    let tenths = ns / 100_000
    return "\(tenths / 10).\(tenths % 10) ms"
  }

  static func us(_ ns: UInt64) -> String { "\(ns / 1000) us" }
}
