/// One command's arguments after scanning, read through typed accessors
/// whose errors are usage errors naming the option.
public struct ParsedArguments: Sendable, Equatable {
  public var flags: Set<String> = []
  /// Every value of each value option, in the order given (a `.value` option keeps its last).
  public var values: [String: [String]] = [:]
  public var positionals: [String] = []

  public init() {}

  public func flag(_ name: String) -> Bool { flags.contains(name) }

  public func string(_ name: String) -> String? { values[name]?.last }

  public func strings(_ name: String) -> [String] { values[name] ?? [] }

  public func int(_ name: String) throws(UsageError) -> Int? {
    guard let s = string(name) else { return nil }
    return try Self.int(s, name)
  }

  public func int(_ name: String, default value: Int) throws(UsageError) -> Int { try int(name) ?? value }

  public func double(_ name: String) throws(UsageError) -> Double? {
    guard let s = string(name) else { return nil }
    return try Self.double(s, name)
  }

  public func double(_ name: String, default value: Double) throws(UsageError) -> Double { try double(name) ?? value }

  public func doubles(_ name: String) throws(UsageError) -> [Double] {
    var out: [Double] = []
    for s in strings(name) { out.append(try Self.double(s, name)) }
    return out
  }

  /// A value out of a closed set (formats): the error lists the choices.
  public func choice<T: RawRepresentable & CaseIterable>(_ name: String, default value: T) throws(UsageError) -> T
  where T.RawValue == String {
    guard let s = string(name) else { return value }
    guard let v = T(rawValue: s) else {
      throw UsageError("--\(name) '\(s)': not one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return v
  }

  static func int(_ s: String, _ name: String) throws(UsageError) -> Int {
    guard let v = Int(s) else { throw UsageError("--\(name) '\(s)': not an integer") }
    return v
  }

  static func double(_ s: String, _ name: String) throws(UsageError) -> Double {
    guard let v = Double(s), v.isFinite else { throw UsageError("--\(name) '\(s)': not a number") }
    return v
  }
}
