/// Graphviz DOT text, written in one place: quoting and escaping of IDs
/// and attribute values, and the statement forms. Used by every DOT
/// renderer (KernelSnapshotDot for snapshots, Reports' VerdictDot).
public struct DotWriter: Sendable {
  public private(set) var text: String

  public init(name: String, graphAttributes: [(String, String)] = [("rankdir", "LR")]) {
    text = "digraph \(DotWriter.id(name)) {\n"
    for (k, v) in graphAttributes { text += "  \(k)=\(DotWriter.quoted(v));\n" }
  }

  /// A node statement: `  id [k="v", ...];`
  public mutating func node(_ id: String, _ attributes: [(String, String)]) {
    text += "  \(DotWriter.id(id))\(DotWriter.attributeList(attributes));\n"
  }

  /// An edge statement: `  from -> to [k="v", ...];`
  public mutating func edge(_ from: String, _ to: String, _ attributes: [(String, String)]) {
    text += "  \(DotWriter.id(from)) -> \(DotWriter.id(to))\(DotWriter.attributeList(attributes));\n"
  }

  /// Default attributes for every node: `  node [k="v"];`
  public mutating func nodeDefaults(_ attributes: [(String, String)]) {
    text += "  node\(DotWriter.attributeList(attributes));\n"
  }

  public func finished() -> String { text + "}\n" }

  static func attributeList(_ a: [(String, String)]) -> String {
    a.isEmpty ? "" : " [" + a.map { "\($0.0)=\(quoted($0.1))" }.joined(separator: ", ") + "]"
  }

  /// An ID as DOT reads it: bare when it is a plain name (letters,
  /// digits, `_`, not starting with a digit), else quoted.
  public static func id(_ s: String) -> String {
    let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
      && !("0"..."9").contains(s.unicodeScalars.first!)
    return plain ? s : quoted(s)
  }

  /// A double-quoted DOT string: `"` and `\` escaped, a newline as the
  /// centred line break `\n`, other control characters dropped.
  public static func quoted(_ s: String) -> String { "\"" + escape(s) + "\"" }

  public static func escape(_ s: String) -> String {
    var r = ""
    for c in s.unicodeScalars {
      switch c {
      case "\"": r += "\\\""
      case "\\": r += "\\\\"
      case "\n": r += "\\n"
      default:
        if c.value < 0x20 || c.value == 0x7f { continue }
        r.unicodeScalars.append(c)
      }
    }
    return r
  }
}
