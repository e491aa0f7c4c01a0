/// CPython's str hash (3.11+ default: SipHash-1-3 keyed by `_Py_HashSecret`,
/// Python/pyhash.c), so that a dict can be probed like CPython does: a few reads
/// instead of reading every key (sys.modules has hundreds, on ~40 pages).
enum StrHash {
  static func siphash13(k0: UInt64, k1: UInt64, _ bytes: [UInt8]) -> Int64 {
    if bytes.isEmpty { return 0 }  // _Py_HashBytes: len 0 hashes to 0
    var v0 = k0 ^ 0x736f_6d65_7073_6575, v1 = k1 ^ 0x646f_7261_6e64_6f6d
    var v2 = k0 ^ 0x6c79_6765_6e65_7261, v3 = k1 ^ 0x7465_6462_7974_6573
    func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }
    func round() {
      v0 = v0 &+ v1; v2 = v2 &+ v3; v1 = rotl(v1, 13) ^ v0; v3 = rotl(v3, 16) ^ v2; v0 = rotl(v0, 32)
      v2 = v2 &+ v1; v0 = v0 &+ v3; v1 = rotl(v1, 17) ^ v2; v3 = rotl(v3, 21) ^ v0; v2 = rotl(v2, 32)
    }
    var i = 0
    while bytes.count - i >= 8 {
      var m: UInt64 = 0
      for j in 0..<8 { m |= UInt64(bytes[i + j]) << (8 * UInt64(j)) }
      v3 ^= m; round(); v0 ^= m
      i += 8
    }
    var b = UInt64(bytes.count) << 56
    for j in 0..<(bytes.count - i) { b |= UInt64(bytes[i + j]) << (8 * UInt64(j)) }
    v3 ^= b; round(); v0 ^= b
    v2 ^= 0xff
    round(); round(); round()
    let h = Int64(bitPattern: (v0 ^ v1) ^ (v2 ^ v3))
    return h == -1 ? -2 : h
  }
}

extension PythonReader {
  /// `dict[key]` for a str key: probes the dict's index with the key's hash (3.11+
  /// open addressing, perturb shift 5). Nil when absent, or when the probe could not
  /// be made (no hash secret): then the caller's scan decides.
  func dictGet(_ dict: UInt64, _ key: String) throws(ReadFailure) -> UInt64? {
    if let secret = hashSecret, let hit = try probe(dict, key, secret) { return hit }
    return try dictLookup(try dictItems(dict), key)
  }

  private func probe(_ dict: UInt64, _ key: String, _ secret: (UInt64, UInt64)) throws(ReadFailure) -> UInt64? {
    let want = Array(key.utf8)
    let hash = StrHash.siphash13(k0: secret.0, k1: secret.1, want)
    let keys = try mem.u64(dict + 32), values = try mem.u64(dict + 40)
    let head = try mem.bytes(keys, 32)
    let log2Size = Int(head[8]), log2Index = Int(head[9]), kind = head[10]
    let n = Int(Int64(bitPattern: ELFSymbols.le64(head, 24)))
    guard log2Size < 32, log2Index < 36, log2Index >= log2Size, n >= 0 else { throw .inconsistent("dict keys") }
    let width = (1 << log2Index) >> log2Size  // bytes per index: 1, 2, 4 or 8
    let mask = UInt64(1) << UInt64(log2Size) - 1
    let entrySize: UInt64 = kind == 0 ? 24 : 16
    let entries = keys + 32 + (UInt64(1) << UInt64(log2Index))
    var perturb = UInt64(bitPattern: hash)
    var i = perturb & mask
    for _ in 0..<min(Int(mask) + 1, 1 << 16) {  // a table always has an empty slot; cap a corrupt one
      let raw = try mem.bytes(keys + 32 + i * UInt64(width), width)
      var ix: Int64 = 0
      for j in 0..<width { ix |= Int64(raw[j]) << (8 * Int64(j)) }
      ix = (ix << (64 - 8 * Int64(width))) >> (64 - 8 * Int64(width))  // sign-extend
      if ix == -1 { return nil }  // DKIX_EMPTY: absent
      if ix >= 0 && ix < n {
        let e = entries + UInt64(ix) * entrySize
        let k = try mem.u64(e + (kind == 0 ? 8 : 0))
        // A str caches its hash at +24; equal hashes then equal bytes.
        if k != 0, try typeOf(k) == unicodeType, try mem.i64(k + 24) == hash, try string(k) == key {
          if values != 0 { return try mem.u64(values + (layout.minor >= 13 ? 8 : 0) + UInt64(ix) * 8) }
          return try mem.u64(e + (kind == 0 ? 16 : 8))
        }
      }
      perturb >>= 5
      i = (i &* 5 &+ perturb &+ 1) & mask
    }
    return nil
  }
}
