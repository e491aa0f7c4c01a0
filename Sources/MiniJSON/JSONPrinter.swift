extension JSONValue {
  /// Compact single-line JSON (used for probe log lines and IPC frames).
  public var compact: String {
    var out: [UInt8] = []
    out.reserveCapacity(256)
    write(into: &out, indent: 0, level: 0)
    return String(decoding: out, as: UTF8.self)
  }

  /// Indented JSON (two spaces) for people and diffs.
  public var pretty: String {
    var out: [UInt8] = []
    out.reserveCapacity(4096)
    write(into: &out, indent: 2, level: 0)
    return String(decoding: out, as: UTF8.self)
  }

  /// Writes UTF-8 bytes into one growing buffer: appending to a String piece
  /// by piece (small-string promotion, grapheme bookkeeping) was ~8% of a whole
  /// `snapshot --tree --format json`. `indent` 0 is compact.
  func write(into out: inout [UInt8], indent: Int, level: Int) {
    func newline(_ level: Int) {
      out.append(10)
      out.append(contentsOf: repeatElement(32, count: indent * level))
    }
    switch self {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .int(let i): JSONValue.appendDecimal(i, into: &out)
    case .double(let d):
      if d.isFinite {
        if d.rounded() == d && abs(d) < 1e15 {
          JSONValue.appendDecimal(Int64(d), into: &out)
        } else {
          out.append(contentsOf: String(d).utf8)
        }
      } else {
        out.append(contentsOf: "null".utf8)
      }
    case .string(let s): JSONValue.escape(s, into: &out)
    case .deferred(let t):
      // Compact: the text as it came. Pretty (files people read): parsed
      // and indented like the rest.
      if indent > 0, let v = try? t.parse() {
        v.write(into: &out, indent: indent, level: level)
      } else {
        out.append(contentsOf: t.bytes)
      }
    case .array(let items):
      if items.isEmpty {
        out.append(contentsOf: "[]".utf8)
        return
      }
      out.append(91)
      for (n, v) in items.enumerated() {
        if n > 0 { out.append(44) }
        if indent > 0 { newline(level + 1) }
        v.write(into: &out, indent: indent, level: level + 1)
      }
      if indent > 0 { newline(level) }
      out.append(93)
    case .object(let pairs):
      if pairs.isEmpty {
        out.append(contentsOf: "{}".utf8)
        return
      }
      out.append(123)
      for (n, (k, v)) in pairs.enumerated() {
        if n > 0 { out.append(44) }
        if indent > 0 { newline(level + 1) }
        JSONValue.escape(k, into: &out)
        out.append(58)
        if indent > 0 { out.append(32) }
        v.write(into: &out, indent: indent, level: level + 1)
      }
      if indent > 0 { newline(level) }
      out.append(125)
    }
  }

  /// Decimal digits of `i` (what String(i) prints), without a String.
  static func appendDecimal(_ i: Int64, into out: inout [UInt8]) {
    if i < 0 { out.append(45) }
    var m = i.magnitude
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
      (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    withUnsafeMutableBytes(of: &digits) { d in
      repeat {
        d[n] = UInt8(48 + m % 10)
        m /= 10
        n += 1
      } while m > 0
      while n > 0 {
        n -= 1
        out.append(d[n])
      }
    }
  }

  /// JSON string escaping, the one rule of the project: '"', '\\' and
  /// control bytes are escaped; every other byte (multi-byte UTF-8
  /// included) passes through. Byte level and inlinable, so the probe
  /// writer uses it on its hot path without building a String.
  @inlinable @inline(__always)
  public static func escapeUTF8(_ u: UnsafeBufferPointer<UInt8>, _ put: (UInt8) -> Void) {
    for c in u {
      switch c {
      case 34: put(92); put(34)
      case 92: put(92); put(92)
      case 10: put(92); put(110)
      case 13: put(92); put(114)
      case 9: put(92); put(116)
      case 0..<32:
        let hi = c >> 4
        let lo = c & 15
        put(92); put(117); put(48); put(48)  // \u00XX, lower-case hex
        put(hi < 10 ? 48 + hi : 87 + hi)
        put(lo < 10 ? 48 + lo : 87 + lo)
      default: put(c)
      }
    }
  }

  /// `s` as a quoted JSON string appended to `out`.
  public static func escape(_ s: String, into out: inout [UInt8]) {
    out.append(34)
    var s = s
    s.withUTF8 { u in
      // Most strings (names, paths, symbols) need no escape: one copy.
      if u.allSatisfy({ $0 >= 32 && $0 != 34 && $0 != 92 }) {
        out.append(contentsOf: u)
      } else {
        escapeUTF8(u) { out.append($0) }
      }
    }
    out.append(34)
  }

  /// `s` as a quoted JSON string appended to `out`.
  public static func escape(_ s: String, into out: inout String) {
    var bytes: [UInt8] = [34]
    bytes.reserveCapacity(s.utf8.count + 2)
    var s = s
    s.withUTF8 { escapeUTF8($0) { bytes.append($0) } }
    bytes.append(34)
    out += String(decoding: bytes, as: UTF8.self)
  }
}
