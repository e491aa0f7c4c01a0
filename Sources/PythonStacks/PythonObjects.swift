/// Reading Python-level objects of the target: dicts, ints, instance attributes
/// (managed dicts), `__slots__` members. Layouts per version are in the brief
/// (python-from-outside.md §4, §6); each walk is capped.
extension PythonReader {
  static let maxDictEntries = 1 << 16

  /// (key, value) pairs of a dict, in insertion order; deleted entries skipped.
  func dictItems(_ dict: UInt64) throws(ReadFailure) -> [(UInt64, UInt64)] {
    let keys = try mem.u64(dict + 32), values = try mem.u64(dict + 40)
    return try keysItems(keys: keys, values: values)
  }

  /// Items of a keys object, with values from `values` (a split table's PyDictValues) when non-zero.
  func keysItems(keys: UInt64, values: UInt64) throws(ReadFailure) -> [(UInt64, UInt64)] {
    let head = try mem.bytes(keys, 32)
    let log2Index = Int(head[9]), kind = head[10]
    let n = Int(Int64(bitPattern: ELFSymbols.le64(head, 24)))
    guard log2Index < 32, n >= 0, n <= PythonReader.maxDictEntries else { throw .inconsistent("dict keys") }
    let entrySize = kind == 0 ? 24 : 16  // DICT_KEYS_GENERAL holds the hash too
    let entries = keys + 32 + (UInt64(1) << UInt64(log2Index))
    let raw = try mem.bytes(entries, n * entrySize)
    var vals: [UInt8] = []
    let prefix: UInt64 = layout.minor >= 13 ? 8 : 0
    if values != 0 { vals = try mem.bytes(values + prefix, n * 8) }
    var out: [(UInt64, UInt64)] = []
    for i in 0..<n {
      let b = i * entrySize + (kind == 0 ? 8 : 0)
      let k = ELFSymbols.le64(raw, b)
      let v = values != 0 ? ELFSymbols.le64(vals, i * 8) : ELFSymbols.le64(raw, b + 8)
      if k != 0 && v != 0 { out.append((k, v)) }
    }
    return out
  }

  /// Keys of a set (mask @32, table @40, entries {key, hash}); empty slots (NULL)
  /// and deleted ones (the dummy key, hash -1) skipped.
  func setItems(_ set: UInt64, limit: Int) throws(ReadFailure) -> [UInt64] {
    let mask = try mem.i64(set + 32)
    guard mask >= 0, mask < Int64(limit * 8) else { throw .inconsistent("set mask \(mask)") }
    let raw = try mem.bytes(try mem.u64(set + 40), Int(mask + 1) * 16)
    var out: [UInt64] = []
    for i in 0...Int(mask) {
      let k = ELFSymbols.le64(raw, i * 16)
      if k != 0 && ELFSymbols.le64(raw, i * 16 + 8) != UInt64.max { out.append(k) }
    }
    return out
  }

  /// The value under a str key; nil when absent.
  /// Compares raw bytes of compact ASCII keys (no String per key: sys.modules has hundreds).
  func dictLookup(_ items: [(UInt64, UInt64)], _ key: String) throws(ReadFailure) -> UInt64? {
    let want = Array(key.utf8)
    for (k, v) in items where try typeOf(k) == unicodeType {
      guard try mem.i64(k + 16) == want.count else { continue }
      let state = try mem.u32(k + 32)
      if state & (1 << 5) != 0 && state & (1 << 6) != 0 {  // compact ASCII: data right after the header
        if try mem.bytes(k + layout.asciiSize, want.count) == want { return v }
      } else if try string(k) == key {
        return v
      }
    }
    return nil
  }

  /// An int object's value (up to 64 bits).
  func int(_ obj: UInt64) throws(ReadFailure) -> UInt64 {
    var ndigits: Int64, negative = false
    if layout.minor <= 11 {
      ndigits = try mem.i64(obj + 16)
      if ndigits < 0 { negative = true; ndigits = -ndigits }
    } else {
      let tag = try mem.u64(obj + 16)
      ndigits = Int64(tag >> 3)
      negative = tag & 3 == 2
    }
    guard ndigits <= 3 else { throw .inconsistent("int too large") }
    var v: UInt64 = 0
    for i in 0..<Int(ndigits) { v |= UInt64(try mem.u32(obj + 24 + UInt64(i) * 4) & 0x3fff_ffff) << (30 * UInt64(i)) }
    return negative ? 0 &- v : v
  }

  /// Items of an object's instance dict (`__dict__`, managed in 3.11+), or [].
  func instanceDict(_ obj: UInt64) throws(ReadFailure) -> [(UInt64, UInt64)] {
    let type = try typeOf(obj)
    let word = try mem.u64(obj &- 24)
    if layout.taggedDictOrValues {  // 3.12: odd word = values pointer - 1
      if word & 1 == 1 { return try keysItems(keys: try mem.u64(type + layout.typeCachedKeys), values: word &+ 1) }
      return word == 0 ? [] : try dictItems(word)
    }
    if word != 0 { return try dictItems(word) }
    let values: UInt64
    if layout.inlineValues {  // 3.13: values inline after the object
      values = obj + UInt64(try mem.u64(type + PythonLayout.tpBasicSize))
    } else {  // 3.11: values pointer before the dict pointer
      values = try mem.u64(obj &- 32)
    }
    guard values != 0 else { return [] }
    return try keysItems(keys: try mem.u64(type + layout.typeCachedKeys), values: values)
  }

  /// `__slots__` member offsets of a type (its tp_members, PyMemberDef of 40 bytes).
  func slotOffsets(type: UInt64) throws(ReadFailure) -> [String: UInt64] {
    var out: [String: UInt64] = [:]
    let members = try mem.u64(type + PythonLayout.tpMembers)
    guard members != 0 else { return out }
    for i in 0..<64 {
      let m = members + UInt64(i) * 40
      let name = try mem.u64(m)
      if name == 0 { break }
      out[try mem.cString(name, limit: 64)] = try mem.u64(m + 16)
    }
    return out
  }

  /// Local variable `name` of a frame (a cell's content for cell/free variables); nil when unset.
  func local(_ f: RawFrame, _ name: String) throws(ReadFailure) -> UInt64? {
    try locals(f).first { $0.0 == name }?.1
  }

  /// The set local variables of a frame, by name (cells dereferenced).
  func locals(_ f: RawFrame) throws(ReadFailure) -> [(String, UInt64)] {
    let names = try sequence(try mem.u64(f.code.code + layout.coLocalsPlusNames), list: false, limit: 4096)
    let kinds = try bytesObject(try mem.u64(f.code.code + layout.coLocalsPlusKinds), limit: 4096)
    guard !names.isEmpty else { return [] }
    let raw = try mem.bytes(f.address + layout.frameLocalsPlus, names.count * 8)
    var out: [(String, UInt64)] = []
    for (i, n) in names.enumerated() {
      var v = ELFSymbols.le64(raw, i * 8)
      if layout.minor >= 14 { v &= ~3 }
      if v != 0, i < kinds.count, kinds[i] & 0xc0 != 0 { v = try mem.u64(v + 16) }  // CO_FAST_CELL/FREE: cell ob_ref
      if v != 0 { out.append((try string(n), v)) }
    }
    return out
  }
}

/// Thread names from `threading._active` (ident -> Thread) and each Thread's `_name`
/// (py-spy's route; /proc comm only says "python" before 3.14).
struct ThreadNames {
  let reader: PythonReader

  /// Names by pthread id (PyThreadState.thread_id); empty when threading is not imported.
  /// A frame running threading.py code holds threading's globals (f_globals): that
  /// skips the walk of sys.modules, whose keys sit on ~40 different pages.
  func names(interp: UInt64, frames: [PythonReader.RawFrame]) throws(ReadFailure) -> [UInt64: String] {
    let r = reader
    var active: UInt64? = nil
    if let f = frames.first(where: { $0.code.file.hasSuffix("/threading.py") }) {
      // A wrong guess only costs the fallback below.
      active = try? r.dictGet(try r.mem.u64(f.address + r.layout.frameGlobals), "_active")
    }
    if active == nil {
      guard let threading = try r.dictGet(try r.mem.u64(interp + r.layout.interpModules), "threading") else { return [:] }
      active = try r.dictGet(try r.mem.u64(threading + 16), "_active")  // md_dict
    }
    guard let active else { return [:] }
    var out: [UInt64: String] = [:]
    for (k, thread) in try r.dictItems(active).prefix(PythonReader.maxThreads) {
      if let n = try r.dictLookup(try r.instanceDict(thread), "_name") { out[try r.int(k)] = try r.string(n) }
    }
    return out
  }
}
