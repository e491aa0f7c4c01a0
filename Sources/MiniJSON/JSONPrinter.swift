extension JSONValue {
  /// Compact single-line JSON (used for probe log lines and IPC frames).
  public var compact: String {
    var out = ""
    write(into: &out, indent: nil, level: 0)
    return out
  }

  /// Indented JSON for people and diffs.
  public var pretty: String {
    var out = ""
    write(into: &out, indent: "  ", level: 0)
    return out
  }

  func write(into out: inout String, indent: String?, level: Int) {
    switch self {
    case .null: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .double(let d):
      if d.isFinite {
        if d.rounded() == d && abs(d) < 1e15 { out += String(Int64(d)) } else { out += String(d) }
      } else { out += "null" }
    case .string(let s): JSONValue.escape(s, into: &out)
    case .deferred(let t):
      // Compact: the text as it came. Pretty (files people read): parsed
      // and indented like the rest.
      if indent != nil, let v = try? t.parse() {
        v.write(into: &out, indent: indent, level: level)
      } else {
        out += String(decoding: t.bytes, as: UTF8.self)
      }
    case .array(let items):
      if items.isEmpty { out += "[]"; return }
      out += "["
      for (n, v) in items.enumerated() {
        if n > 0 { out += "," }
        if let ind = indent { out += "\n" + String(repeating: ind, count: level + 1) }
        v.write(into: &out, indent: indent, level: level + 1)
      }
      if let ind = indent { out += "\n" + String(repeating: ind, count: level) }
      out += "]"
    case .object(let pairs):
      if pairs.isEmpty { out += "{}"; return }
      out += "{"
      for (n, (k, v)) in pairs.enumerated() {
        if n > 0 { out += "," }
        if let ind = indent { out += "\n" + String(repeating: ind, count: level + 1) }
        JSONValue.escape(k, into: &out)
        out += indent == nil ? ":" : ": "
        v.write(into: &out, indent: indent, level: level + 1)
      }
      if let ind = indent { out += "\n" + String(repeating: ind, count: level) }
      out += "}"
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
  public static func escape(_ s: String, into out: inout String) {
    var bytes: [UInt8] = [34]
    bytes.reserveCapacity(s.utf8.count + 2)
    var s = s
    s.withUTF8 { escapeUTF8($0) { bytes.append($0) } }
    bytes.append(34)
    out += String(decoding: bytes, as: UTF8.self)
  }
}
