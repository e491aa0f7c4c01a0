/// A JSON value with object keys kept in order (verdicts read better that way).
/// Written here because actor processes must not load Foundation.
public enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case int(Int64)
  case double(Double)
  case string(String)
  case array([JSONValue])
  case object([(String, JSONValue)])
  /// A value kept as its JSON text, unparsed (`JSONParser.parse(bytes:
  /// deferringNested:)`); the printer writes it back byte for byte.
  case deferred(JSONText)

  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.double(let x), .double(let y)): return x == y
    case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
    case (.string(let x), .string(let y)): return x == y
    case (.array(let x), .array(let y)): return x == y
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    case (.deferred(let x), .deferred(let y)): return x == y
    default: return false
    }
  }

  public subscript(key: String) -> JSONValue? {
    if case .object(let pairs) = self { return pairs.first(where: { $0.0 == key })?.1 }
    return nil
  }

  public var string: String? { if case .string(let s) = self { return s }; return nil }
  public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
  public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
  public var object: [(String, JSONValue)]? { if case .object(let o) = self { return o }; return nil }
  public var isNull: Bool { if case .null = self { return true }; return false }
  public var int: Int64? {
    switch self {
    case .int(let i): return i
    case .double(let d) where d.rounded() == d && abs(d) < 9e15: return Int64(d)
    default: return nil
    }
  }
  public var double: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .double(let d): return d
    default: return nil
    }
  }

  public var kindName: String {
    switch self {
    case .null: return "null"
    case .bool: return "a boolean"
    case .int, .double: return "a number"
    case .string: return "a string"
    case .array: return "an array"
    case .object: return "an object"
    case .deferred: return "unparsed JSON"
    }
  }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
  ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
  public init(stringLiteral v: String) { self = .string(v) }
  public init(integerLiteral v: Int64) { self = .int(v) }
  public init(booleanLiteral v: Bool) { self = .bool(v) }
  public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
  public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(elements) }
  public init(nilLiteral: ()) { self = .null }
}

extension JSONValue {
  public static func from(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
  public static func from<I: BinaryInteger>(_ i: I?) -> JSONValue { i.map { .int(Int64($0)) } ?? .null }
}

/// One JSON value's text, checked for syntax but not parsed: what a reader
/// passes on without reading (an actor forwards its grandchildren's specs
/// this way). The bytes are valid UTF-8 and one complete JSON value.
public struct JSONText: Sendable, Equatable {
  public let bytes: ArraySlice<UInt8>

  /// Only the parser makes one: the bytes are known to be a JSON value.
  init(checked bytes: ArraySlice<UInt8>) { self.bytes = bytes }

  /// Parses the text (deferring as `JSONParser.parse(bytes:deferringNested:)`
  /// does, when `deferringNested` is given).
  public func parse(deferringNested key: String? = nil) throws(JSONParseError) -> JSONValue {
    try JSONParser.parse(bytes: Array(bytes), deferringNested: key)
  }
}
