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

  public static func escape(_ s: String, into out: inout String) {
    out += "\""
    var s = s
    s.withUTF8 { u in
      // Copy runs of bytes that need no escape in one append: a byte below
      // 0x80 is never part of a multi-byte UTF-8 sequence, so cutting there
      // keeps every run valid UTF-8.
      var start = 0
      for i in 0..<u.count {
        let c = u[i]
        guard c == 34 || c == 92 || c < 0x20 else { continue }
        if start < i { out += String(decoding: UnsafeBufferPointer(rebasing: u[start..<i]), as: UTF8.self) }
        switch c {
        case 34: out += "\\\""
        case 92: out += "\\\\"
        case 10: out += "\\n"
        case 13: out += "\\r"
        case 9: out += "\\t"
        default:
          out += "\\u00"
          out.unicodeScalars.append(hexDigit(c >> 4))
          out.unicodeScalars.append(hexDigit(c & 15))
        }
        start = i + 1
      }
      if start < u.count { out += String(decoding: UnsafeBufferPointer(rebasing: u[start..<u.count]), as: UTF8.self) }
    }
    out += "\""
  }

  private static func hexDigit(_ v: UInt8) -> Unicode.Scalar { Unicode.Scalar(v < 10 ? 48 + v : 87 + v) }
}
