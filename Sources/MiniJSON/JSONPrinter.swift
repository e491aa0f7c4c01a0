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
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 {
          let h = String(u.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        } else {
          out.unicodeScalars.append(u)
        }
      }
    }
    out += "\""
  }
}
