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
    "PyGen_Type", "PyCoro_Type",
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
}

/// A mapping line of /proc/PID/maps with a file behind it.
struct FileMapping: Sendable {
  var start: UInt64
  var offset: UInt64
  /// "dev:inode" of the file: the same binary in every process of a tree.
  var file: String
  var path: String

  /// The offset-0 mappings of the executable (the first line) and of libpython, in
  /// address order; nil when maps cannot be read. Parsed as bytes: a Python
  /// process has ~100-300 lines and a String per line cost more than the read.
  static func read(pid: Int32) -> [FileMapping]? {
    guard let bytes = Syscalls.readFile("/proc/\(pid)/maps") else { return nil }
    var out: [FileMapping] = []
    let lib = Array("libpython3".utf8)
    bytes.withUnsafeBufferPointer { b in
      var lineStart = 0
      while lineStart < b.count {
        var end = lineStart
        while end < b.count && b[end] != 10 { end += 1 }
        defer { lineStart = end + 1 }
        // "start-end perms offset dev inode   path": path starts at the first '/'.
        guard let slash = (lineStart..<end).first(where: { b[$0] == 47 }) else { continue }
        var nameStart = end
        while nameStart > slash && b[nameStart - 1] != 47 { nameStart -= 1 }
        let isLib = end - nameStart >= lib.count && (0..<lib.count).allSatisfy { b[nameStart + $0] == lib[$0] }
        guard out.isEmpty || isLib else { continue }
        var i = lineStart
        func hex() -> UInt64 {
          var v: UInt64 = 0
          while i < end, let d = hexDigit(b[i]) { v = v << 4 | d; i += 1 }
          return v
        }
        let start = hex()
        while i < end && b[i] != 32 { i += 1 }  // "-end"
        i += 1
        while i < end && b[i] != 32 { i += 1 }  // perms
        i += 1
        let offset = hex()
        guard offset == 0 else { continue }
        i += 1
        let devStart = i
        while i < end && b[i] != 32 { i += 1 }
        let dev = String(decoding: UnsafeBufferPointer(rebasing: b[devStart..<i]), as: UTF8.self)
        i += 1
        var inode: UInt64 = 0
        while i < end, b[i] >= 48, b[i] <= 57 { inode = inode * 10 + UInt64(b[i] - 48); i += 1 }
        var pathEnd = end
        while pathEnd > slash && b[pathEnd - 1] == 32 { pathEnd -= 1 }
        out.append(FileMapping(start: start, offset: 0, file: "\(dev):\(inode)", path: String(decoding: UnsafeBufferPointer(rebasing: b[slash..<pathEnd]), as: UTF8.self)))
      }
    }
    return out
  }

  static func hexDigit(_ c: UInt8) -> UInt64? {
    switch c {
    case 48...57: return UInt64(c - 48)
    case 97...102: return UInt64(c - 87)
    default: return nil
    }
  }
}

extension String {
  /// The last path component.
  var baseName: String { split(separator: "/").last.map(String.init) ?? self }
}
