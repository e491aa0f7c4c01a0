/// A parse failure with the byte offset, line and column where it happened.
public struct JSONParseError: Error, CustomStringConvertible, Sendable {
  public var message: String
  public var offset: Int
  public var line: Int
  public var column: Int
  public var description: String { "line \(line), column \(column): \(message)" }
}

/// A strict recursive-descent JSON parser (RFC 8259), depth-limited so that
/// hostile input cannot overflow the stack.
public struct JSONParser {
  private let bytes: [UInt8]
  private var i = 0
  private var depth = 0
  private static let maxDepth = 256
  /// `parse(bytes:deferringNested:)`'s key, and how many values of that key
  /// enclose the parser's position.
  private var deferKey: String? = nil
  private var keyDepth = 0

  public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
    try parse(bytes: Array(text.utf8))
  }

  public static func parse(bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
    try parse(bytes: bytes, deferringNested: nil)
  }

  /// Parses `bytes`, but a value of an object member named `key` that lies
  /// inside the value of another member named `key` is kept as its text
  /// (`JSONValue.deferred`): checked for syntax (strings, escapes, UTF-8,
  /// numbers, nesting depth) but not parsed, so duplicate keys in it are
  /// found only when it is parsed. For a tree whose nodes list their
  /// children, the top node and its children are parsed and the
  /// grandchildren's subtrees are not.
  public static func parse(bytes: [UInt8], deferringNested key: String?) throws(JSONParseError) -> JSONValue {
    var p = JSONParser(bytes: bytes)
    p.deferKey = key
    p.skipSpace()
    let v = try p.value()
    p.skipSpace()
    if p.i != p.bytes.count { throw p.fail("unexpected text after the JSON value") }
    return v
  }

  private init(bytes: [UInt8]) { self.bytes = bytes }

  private func fail(_ m: String) -> JSONParseError {
    var line = 1, col = 1
    for b in bytes[0..<min(i, bytes.count)] { if b == 10 { line += 1; col = 1 } else { col += 1 } }
    return JSONParseError(message: m, offset: i, line: line, column: col)
  }

  private mutating func skipSpace() {
    while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 10 || bytes[i] == 13 { i += 1 }
  }

  private mutating func value() throws(JSONParseError) -> JSONValue {
    guard i < bytes.count else { throw fail("unexpected end of input") }
    switch bytes[i] {
    case UInt8(ascii: "{"): return try object()
    case UInt8(ascii: "["): return try array()
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): try literal("true"); return .bool(true)
    case UInt8(ascii: "f"): try literal("false"); return .bool(false)
    case UInt8(ascii: "n"): try literal("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
    default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[i])))'")
    }
  }

  private mutating func literal(_ word: String) throws(JSONParseError) {
    for c in word.utf8 {
      guard i < bytes.count, bytes[i] == c else { throw fail("invalid literal, expected \(word)") }
      i += 1
    }
  }

  private mutating func enter() throws(JSONParseError) {
    depth += 1
    if depth > JSONParser.maxDepth { throw fail("nesting deeper than \(JSONParser.maxDepth)") }
  }

  private mutating func object() throws(JSONParseError) -> JSONValue {
    try enter(); defer { depth -= 1 }
    i += 1
    var pairs: [(String, JSONValue)] = []
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
    while true {
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
      let k = try string()
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key \"\(k)\"") }
      i += 1
      skipSpace()
      let v: JSONValue
      if let d = deferKey, k == d {
        if keyDepth > 0 {
          let start = i
          try skipValue()
          v = .deferred(JSONText(checked: bytes[start..<i]))
        } else {
          keyDepth += 1
          v = try value()
          keyDepth -= 1
        }
      } else {
        v = try value()
      }
      if pairs.contains(where: { $0.0 == k }) { throw fail("duplicate key \"\(k)\"") }
      pairs.append((k, v))
      skipSpace()
      guard i < bytes.count else { throw fail("unterminated object") }
      if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
      if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
      throw fail("expected ',' or '}' in object")
    }
  }

  private mutating func array() throws(JSONParseError) -> JSONValue {
    try enter(); defer { depth -= 1 }
    i += 1
    var items: [JSONValue] = []
    skipSpace()
    if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
    while true {
      skipSpace()
      items.append(try value())
      skipSpace()
      guard i < bytes.count else { throw fail("unterminated array") }
      if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
      if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
      throw fail("expected ',' or ']' in array")
    }
  }

  private mutating func hex4() throws(JSONParseError) -> UInt32 {
    guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[i]
      let d: UInt32
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
      default: throw fail("bad hex digit in \\u escape")
      }
      v = v * 16 + d
      i += 1
    }
    return v
  }

  /// The scalar of a `\\uXXXX` escape (a surrogate pair: both), after the `u`.
  private mutating func unicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
    var scalar = try hex4()
    if scalar >= 0xD800 && scalar < 0xDC00 {
      guard i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
        throw fail("lone surrogate in \\u escape")
      }
      i += 2
      let lo = try hex4()
      guard lo >= 0xDC00 && lo < 0xE000 else { throw fail("bad surrogate pair") }
      scalar = 0x10000 + ((scalar - 0xD800) << 10) + (lo - 0xDC00)
    }
    guard let u = Unicode.Scalar(scalar) else { throw fail("invalid unicode scalar") }
    return u
  }

  /// Checks one value as `value()` would parse it, without building it.
  private mutating func skipValue() throws(JSONParseError) {
    guard i < bytes.count else { throw fail("unexpected end of input") }
    switch bytes[i] {
    case UInt8(ascii: "{"):
      try enter(); defer { depth -= 1 }
      i += 1
      skipSpace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return }
      while true {
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        try skipString()
        skipSpace()
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':' after key") }
        i += 1
        skipSpace()
        try skipValue()
        skipSpace()
        guard i < bytes.count else { throw fail("unterminated object") }
        if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
        if bytes[i] == UInt8(ascii: "}") { i += 1; return }
        throw fail("expected ',' or '}' in object")
      }
    case UInt8(ascii: "["):
      try enter(); defer { depth -= 1 }
      i += 1
      skipSpace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return }
      while true {
        skipSpace()
        try skipValue()
        skipSpace()
        guard i < bytes.count else { throw fail("unterminated array") }
        if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
        if bytes[i] == UInt8(ascii: "]") { i += 1; return }
        throw fail("expected ',' or ']' in array")
      }
    case UInt8(ascii: "\""): try skipString()
    case UInt8(ascii: "t"): try literal("true")
    case UInt8(ascii: "f"): try literal("false")
    case UInt8(ascii: "n"): try literal("null")
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number()
    default: throw fail("unexpected character '\(Character(Unicode.Scalar(bytes[i])))'")
    }
  }

  /// Checks one string as `string()` would read it, without building it.
  private mutating func skipString() throws(JSONParseError) {
    i += 1
    let start = i
    var nonASCII = false
    while true {
      guard i < bytes.count else { throw fail("unterminated string") }
      let c = bytes[i]
      if c == UInt8(ascii: "\"") { break }
      if c < 0x20 { throw fail("control character in string") }
      i += 1
      if c >= 0x80 { nonASCII = true; continue }
      guard c == UInt8(ascii: "\\") else { continue }
      guard i < bytes.count else { throw fail("unterminated escape") }
      let e = bytes[i]
      i += 1
      switch e {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
        UInt8(ascii: "r"), UInt8(ascii: "t"):
        break
      case UInt8(ascii: "u"): _ = try unicodeEscape()
      default: throw fail("invalid escape")
      }
    }
    // Escapes are ASCII: the raw bytes are valid UTF-8 exactly when the
    // string they spell is.
    if nonASCII && String(validating: bytes[start..<i], as: UTF8.self) == nil { throw fail("invalid UTF-8 in string") }
    i += 1
  }

  private mutating func string() throws(JSONParseError) -> String {
    i += 1
    var out: [UInt8] = []
    while true {
      guard i < bytes.count else { throw fail("unterminated string") }
      let c = bytes[i]
      if c == UInt8(ascii: "\"") { i += 1; break }
      if c < 0x20 { throw fail("control character in string") }
      if c == UInt8(ascii: "\\") {
        i += 1
        guard i < bytes.count else { throw fail("unterminated escape") }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          let u = try unicodeEscape()
          out.append(contentsOf: Array(String(Character(u)).utf8))
        default: throw fail("invalid escape")
        }
      } else {
        out.append(c)
        i += 1
      }
    }
    guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
    return s
  }

  private mutating func number() throws(JSONParseError) -> JSONValue {
    let start = i
    if bytes[i] == UInt8(ascii: "-") { i += 1 }
    var isInt = true
    func digits(_ p: inout JSONParser) -> Int {
      var n = 0
      while p.i < p.bytes.count, p.bytes[p.i] >= 48, p.bytes[p.i] <= 57 { p.i += 1; n += 1 }
      return n
    }
    if digits(&self) == 0 { throw fail("invalid number") }
    if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
      isInt = false; i += 1
      if digits(&self) == 0 { throw fail("invalid number") }
    }
    if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
      isInt = false; i += 1
      if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
      if digits(&self) == 0 { throw fail("invalid number") }
    }
    let text = String(decoding: bytes[start..<i], as: UTF8.self)
    if isInt, let v = Int64(text) { return .int(v) }
    // Double("1e999") is +inf, which the printer can only write as null: a
    // value that does not survive its own printing (found by fuzz-scenario).
    guard let d = Double(text), d.isFinite else { throw fail("number out of range") }
    return .double(d)
  }
}
