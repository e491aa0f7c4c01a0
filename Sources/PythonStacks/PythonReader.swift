/// Reads one CPython process: threads, frames, code objects, strings. Every
/// pointer it follows is checked (code objects and strings by their type
/// address) and every walk is capped, so a target that runs while we read
/// gives an `inconsistent` failure (retried by the caller), never garbage.
final class PythonReader {
  let mem: RemoteMemory
  let layout: PythonLayout
  let runtime: UInt64
  /// Run-time addresses of PyCode_Type, PyUnicode_Type, _Py_NoneStruct, _Py_TrueStruct.
  let codeType: UInt64, unicodeType: UInt64, noneObject: UInt64, trueObject: UInt64
  /// Address of `_Py_HashSecret` (k0, k1 of the str hash), when exported.
  let hashSecretAddress: UInt64?
  private var secret: (UInt64, UInt64)?? = nil
  private var codes: [UInt64: CodeInfo] = [:]

  static let maxThreads = 256, maxFrames = 256, maxString = 4096, maxInterpreters = 16

  init(mem: RemoteMemory, layout: PythonLayout, runtime: UInt64, codeType: UInt64, unicodeType: UInt64,
       noneObject: UInt64, trueObject: UInt64, hashSecretAddress: UInt64? = nil) {
    self.mem = mem
    self.layout = layout
    self.runtime = runtime
    self.codeType = codeType
    self.unicodeType = unicodeType
    self.noneObject = noneObject
    self.trueObject = trueObject
    self.hashSecretAddress = hashSecretAddress
  }

  /// The str hash key, read once per reader; nil when it cannot be read.
  var hashSecret: (UInt64, UInt64)? {
    if let s = secret { return s }
    var s: (UInt64, UInt64)? = nil
    if let a = hashSecretAddress, let k0 = try? mem.u64(a), let k1 = try? mem.u64(a + 8) { s = (k0, k1) }
    secret = .some(s)
    return s
  }

  struct CodeInfo {
    var name: String, qualname: String, file: String
    var firstLine: Int
    var linetable: [UInt8]
    var code: UInt64
  }

  /// One frame as read: its code and the instruction it is at.
  struct RawFrame {
    var address: UInt64
    var code: CodeInfo
    var line: Int
  }

  // MARK: - Objects

  func typeOf(_ obj: UInt64) throws(ReadFailure) -> UInt64 { try mem.u64(obj + 8) }

  /// The tp_name of an object's type (e.g. "coroutine", "Task").
  func typeName(_ obj: UInt64) throws(ReadFailure) -> String {
    try mem.cString(try mem.u64(try typeOf(obj) + PythonLayout.tpName), limit: 128)
  }

  /// A str object's text; throws when `obj` is not a str.
  func string(_ obj: UInt64) throws(ReadFailure) -> String {
    guard obj != 0, try typeOf(obj) == unicodeType else { throw .inconsistent("not a str at 0x\(String(obj, radix: 16))") }
    let length = try mem.i64(obj + 16)
    guard length >= 0, length <= PythonReader.maxString * 4 else { throw .inconsistent("str length \(length)") }
    let n = min(Int(length), PythonReader.maxString)
    let state = try mem.u32(obj + 32)
    let kind = Int((state >> 2) & 7), compact = state & (1 << 5) != 0, ascii = state & (1 << 6) != 0
    guard kind == 1 || kind == 2 || kind == 4 else { throw .inconsistent("str kind \(kind)") }
    let data: UInt64
    if compact {
      data = obj + (ascii ? layout.asciiSize : layout.compactSize)
    } else {
      data = try mem.u64(obj + layout.compactSize)
    }
    let raw = try mem.bytes(data, n * kind)
    if kind == 1 {
      return ascii ? String(decoding: raw, as: UTF8.self) : String(String.UnicodeScalarView(raw.map { Unicode.Scalar($0) }))
    }
    var scalars = String.UnicodeScalarView()
    for i in 0..<n {
      var v: UInt32 = 0
      for j in 0..<kind { v |= UInt32(raw[i * kind + j]) << (8 * UInt32(j)) }
      scalars.append(Unicode.Scalar(v) ?? "?")
    }
    return String(scalars)
  }

  /// A bytes object's content (linetables, localspluskinds), capped at `limit`.
  func bytesObject(_ obj: UInt64, limit: Int = 1 << 16) throws(ReadFailure) -> [UInt8] {
    let size = try mem.i64(obj + 16)
    guard size >= 0, size <= limit else { throw .inconsistent("bytes size \(size)") }
    return try mem.bytes(obj + 32, Int(size))
  }

  /// Items of a tuple (3.11+: ob_size @16, items @24) or list (items pointer @24).
  func sequence(_ obj: UInt64, list: Bool, limit: Int = 100_000) throws(ReadFailure) -> [UInt64] {
    let size = try mem.i64(obj + 16)
    guard size >= 0, size <= limit else { throw .inconsistent("sequence size \(size)") }
    if size == 0 { return [] }
    let items = list ? try mem.u64(obj + 24) : obj + 24
    let raw = try mem.bytes(items, Int(size) * 8)
    return (0..<Int(size)).map { i in ELFSymbols.le64(raw, i * 8) }
  }

  // MARK: - Code objects

  func code(_ addr: UInt64) throws(ReadFailure) -> CodeInfo {
    if let c = codes[addr] { return c }
    guard try typeOf(addr) == codeType else { throw .inconsistent("not a code object at 0x\(String(addr, radix: 16))") }
    let l = layout
    let info = CodeInfo(
      name: try string(try mem.u64(addr + l.coName)),
      qualname: try string(try mem.u64(addr + l.coQualname)),
      file: try string(try mem.u64(addr + l.coFilename)),
      firstLine: Int(try mem.i32(addr + l.coFirstLineno)),
      linetable: try bytesObject(try mem.u64(addr + l.coLinetable)),
      code: addr)
    codes[addr] = info
    return info
  }

  /// The line of instruction `index` (code units) from a location table (3.11+ format,
  /// InternalDocs/code_objects.md): entries of (kind, length) with line deltas.
  static func line(linetable t: [UInt8], firstLine: Int, index: Int) -> Int? {
    var line = firstLine
    var pos = 0
    var at = 0
    func varint() -> Int {
      var v = 0, shift = 0
      while pos < t.count {
        let b = Int(t[pos])
        pos += 1
        v |= (b & 63) << shift
        shift += 6
        if b & 64 == 0 { break }
      }
      return v
    }
    func svarint() -> Int {
      let v = varint()
      return v & 1 != 0 ? -(v >> 1) : v >> 1
    }
    while pos < t.count {
      let h = Int(t[pos])
      pos += 1
      guard h & 0x80 != 0 else { return nil }
      let kind = (h >> 3) & 15, length = (h & 7) + 1
      var thisLine: Int? = line
      switch kind {
      case 15: thisLine = nil
      case 14:
        line += svarint()
        thisLine = line
        _ = varint(); _ = varint(); _ = varint()
      case 13:
        line += svarint()
        thisLine = line
      case 10...12:
        line += kind - 10
        thisLine = line
        pos += 2
      default:
        pos += 1
      }
      if index < at + length { return thisLine }
      at += length
    }
    return nil
  }

  /// A frame at `frame`: nil for frames to skip (C-stack shims, frames without code).
  func frame(_ frame: UInt64) throws(ReadFailure) -> RawFrame? {
    let l = layout
    // 3.12/3.13: owner 3 is the C-stack shim; 3.14: 3 is INTERPRETER, 4 CSTACK. Neither is Python code.
    if let cs = l.ownerCStack, try mem.i8(frame + l.frameOwner) >= cs { return nil }
    var codeAddr = try mem.u64(frame + l.frameCode)
    if l.minor >= 14 { codeAddr &= ~3 }  // _PyStackRef tag bits
    // 3.13+ frames may hold None as their executable (entry frames): not Python code.
    if codeAddr == 0 || codeAddr == noneObject { return nil }
    let c = try code(codeAddr)
    let instr = try mem.u64(frame + l.frameInstr)
    let start = codeAddr + l.coCodeAdaptive
    var line = c.firstLine
    if instr >= start, (instr - start) / 2 < 1 << 20 {
      line = PythonReader.line(linetable: c.linetable, firstLine: c.firstLine, index: Int((instr - start) / 2)) ?? c.firstLine
    }
    return RawFrame(address: frame, code: c, line: line)
  }

  // MARK: - Interpreters and threads

  func interpreters() throws(ReadFailure) -> [UInt64] {
    var out: [UInt64] = []
    var i = try mem.u64(runtime + layout.interpretersHead)
    while i != 0 && out.count < PythonReader.maxInterpreters {
      if out.contains(i) { throw .inconsistent("interpreter list loops") }
      out.append(i)
      i = try mem.u64(i + layout.interpNext)
    }
    return out
  }

  struct RawThread {
    var tstate: UInt64
    var threadID: UInt64
    var tid: Int32
    var frames: [RawFrame]
  }

  func threads(of interp: UInt64) throws(ReadFailure) -> [RawThread] {
    var out: [RawThread] = []
    var ts = try mem.u64(interp + layout.interpThreadsHead)
    var seen: Set<UInt64> = []
    while ts != 0 && out.count < PythonReader.maxThreads {
      guard seen.insert(ts).inserted else { throw .inconsistent("thread list loops") }
      let tid = Int32(truncatingIfNeeded: try mem.u64(ts + layout.tsNativeThreadID))
      out.append(RawThread(tstate: ts, threadID: try mem.u64(ts + layout.tsThreadID), tid: tid, frames: try frames(of: ts)))
      ts = try mem.u64(ts + layout.tsNext)
    }
    return out
  }

  /// The frames of one thread, innermost first.
  func frames(of ts: UInt64) throws(ReadFailure) -> [RawFrame] {
    var f: UInt64
    if let cf = layout.tsCFrame {
      let cframe = try mem.u64(ts + cf)
      f = cframe == 0 ? 0 : try mem.u64(cframe + layout.cframeCurrentFrame)
    } else {
      f = try mem.u64(ts + layout.tsCurrentFrame)
    }
    var out: [RawFrame] = []
    var steps = 0
    while f != 0 {
      steps += 1
      guard steps <= PythonReader.maxFrames else { break }
      if let fr = try frame(f) { out.append(fr) }
      f = try mem.u64(f + layout.framePrevious)
    }
    return out
  }
}
