import Synchronization
import SystemCore

/// What we need from a CPython ELF file (the executable or libpython): where
/// `_PyRuntime` is and a few exported objects, as link-time addresses.
/// Read with pread from the file: header, program headers, section headers,
/// .dynsym/.dynstr (~100 KB for libpython), nothing else.
struct ELFSymbols: Sendable {
  /// p_vaddr of the first PT_LOAD, rounded down to its alignment (the link-time
  /// address of the offset-0 mapping).
  var loadBias: UInt64
  /// sh_addr of the `.PyRuntime` section, when there is one.
  var pyRuntimeSection: UInt64?
  /// Values of the wanted dynamic symbols found.
  var symbols: [String: UInt64]

  static let wanted: Set<String> = [
    "_PyRuntime", "Py_Version", "PyCode_Type", "PyUnicode_Type", "_Py_NoneStruct", "_Py_TrueStruct",
    "PyGen_Type", "PyCoro_Type", "_Py_HashSecret",
  ]

  static let wantedBytes: [(String, [UInt8])] = wanted.map { ($0, Array($0.utf8)) }

  /// Nil when the file is not a readable little-endian ELF64.
  static func read(path: String) -> ELFSymbols? {
    guard let f = ReadOnlyFile(path: path), let h = f.read(offset: 0, count: 64), h.count == 64,
      h[0] == 0x7f, h[1] == 0x45, h[2] == 0x4c, h[3] == 0x46, h[4] == 2, h[5] == 1
    else { return nil }
    let phoff = Int(le64(h, 32)), shoff = Int(le64(h, 40))
    let phentsize = Int(le16(h, 54)), phnum = Int(le16(h, 56))
    let shentsize = Int(le16(h, 58)), shnum = Int(le16(h, 60)), shstrndx = Int(le16(h, 62))
    guard phentsize >= 56, phnum < 128, shentsize >= 64, shnum < 512 else { return nil }

    var bias: UInt64? = nil
    if let ph = f.read(offset: phoff, count: phentsize * phnum) {
      for i in 0..<phnum where le32(ph, i * phentsize) == 1 {  // PT_LOAD
        let vaddr = le64(ph, i * phentsize + 16), align = le64(ph, i * phentsize + 48)
        bias = align > 1 ? vaddr & ~(align - 1) : vaddr
        break
      }
    }
    guard let loadBias = bias, let sh = f.read(offset: shoff, count: shentsize * shnum), sh.count == shentsize * shnum,
      shstrndx < shnum
    else { return nil }
    func section(_ i: Int) -> (name: Int, type: UInt32, addr: UInt64, offset: Int, size: Int, link: Int) {
      let b = i * shentsize
      return (Int(le32(sh, b)), le32(sh, b + 4), le64(sh, b + 16), Int(le64(sh, b + 24)), Int(le64(sh, b + 32)),
              Int(le32(sh, b + 40)))
    }
    let strtab = section(shstrndx)
    let names = f.read(offset: strtab.offset, count: min(strtab.size, 1 << 16)) ?? []
    var out = ELFSymbols(loadBias: loadBias, pyRuntimeSection: nil, symbols: [:])
    for i in 0..<shnum {
      let s = section(i)
      if cString(names, s.name) == ".PyRuntime" { out.pyRuntimeSection = s.addr }
      // SHT_DYNSYM: exported symbols (present in stripped builds too).
      if s.type == 11, s.link < shnum, s.size < 8 << 20 {
        let str = section(s.link)
        guard let syms = f.read(offset: s.offset, count: s.size), let strs = f.read(offset: str.offset, count: min(str.size, 8 << 20))
        else { continue }
        // Byte compares, no String per symbol: libpython exports ~2000 symbols.
        let names = wantedBytes
        syms.withUnsafeBufferPointer { sy in
          strs.withUnsafeBufferPointer { st in
            var j = 24
            while j + 24 <= sy.count {
              let nameOff = Int(le32(sy, j))
              if nameOff < st.count, st[nameOff] == 0x5f || st[nameOff] == 0x50 {  // '_' or 'P'
                for (n, b) in names where nameOff + b.count < st.count && st[nameOff + b.count] == 0 {
                  if (0..<b.count).allSatisfy({ st[nameOff + $0] == b[$0] }) { out.symbols[n] = le64(sy, j + 8) }
                }
              }
              j += 24
            }
          }
        }
      }
    }
    return out
  }

  static func le16<B: RandomAccessCollection<UInt8>>(_ b: B, _ o: Int) -> UInt16 where B.Index == Int { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
  static func le32<B: RandomAccessCollection<UInt8>>(_ b: B, _ o: Int) -> UInt32 where B.Index == Int {
    UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
  }
  static func le64<B: RandomAccessCollection<UInt8>>(_ b: B, _ o: Int) -> UInt64 where B.Index == Int { UInt64(le32(b, o)) | UInt64(le32(b, o + 4)) << 32 }
  static func cString(_ b: [UInt8], _ o: Int) -> String {
    guard o >= 0, o < b.count else { return "" }
    var e = o
    while e < b.count && b[e] != 0 { e += 1 }
    return String(decoding: b[o..<e], as: UTF8.self)
  }

  /// Parsed files for the whole run, by "dev:inode": a watch loop or a verdict that
  /// captures process after process parses libpython once (measured: the first
  /// capture of a tree ~3.9 ms, the others ~0.6 ms).
  private static let cache = Mutex<[String: ELFSymbols?]>([:])

  /// Parsed under the lock: the capture threads of one snapshot ask for the
  /// same interpreter binary at the same moment; one parses, the other waits.
  static func cached(_ key: String, _ parse: () -> ELFSymbols?) -> ELFSymbols? {
    cache.withLock { c in
      if let hit = c[key] { return hit }
      let e = parse()
      c[key] = e
      return e
    }
  }
}
