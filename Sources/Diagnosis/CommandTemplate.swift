/// `compare --watch 'CMD ... {backend} ...'`: a command line split into
/// words the way a shell splits simple quoting, without a shell: 'single'
/// quotes keep everything, "double" quotes keep everything but \" \\ \$ \`,
/// a backslash outside quotes keeps the next character. Pipes, redirections,
/// `$` expansions and `;`/`&` need a shell and are refused (wrap the command
/// in `sh -c '...'` for those).
public struct CommandTemplate: Sendable, Equatable {
  public static let placeholder = "{backend}"

  public var words: [String]

  public struct ParseError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  public init(_ text: String) throws(ParseError) {
    var words: [String] = []
    var cur = ""
    var inWord = false
    var quote: Character? = nil
    var escaped = false
    for c in text {
      if escaped {
        cur.append(c)
        escaped = false
        continue
      }
      switch quote {
      case "'":
        if c == "'" { quote = nil } else { cur.append(c) }
      case "\"":
        if c == "\"" {
          quote = nil
        } else if c == "\\" {
          escaped = true
        } else {
          if c == "$" || c == "`" { throw ParseError(description: "\(c) inside double quotes needs a shell: use single quotes") }
          cur.append(c)
        }
      default:
        if c == " " || c == "\t" || c == "\n" {
          if inWord { words.append(cur) }
          cur = ""
          inWord = false
          continue
        }
        inWord = true
        if c == "'" || c == "\"" {
          quote = c
        } else if c == "\\" {
          escaped = true
        } else if "|&;<>()$`".contains(c) {
          throw ParseError(
            description: "'\(c)' needs a shell; the command runs without one (quote it, or use sh -c '...')")
        } else {
          cur.append(c)
        }
      }
    }
    if quote != nil { throw ParseError(description: "unclosed \(quote!) quote") }
    if escaped { throw ParseError(description: "a trailing backslash") }
    if inWord { words.append(cur) }
    guard !words.isEmpty else { throw ParseError(description: "the command is empty") }
    guard words.contains(where: { $0.contains(CommandTemplate.placeholder) }) else {
      throw ParseError(description: "the command has no \(CommandTemplate.placeholder) to put each backend in")
    }
    self.words = words
  }

  /// The argv for one backend: every `{backend}` replaced.
  public func argv(backend: String) -> [String] {
    words.map { $0.replacing(CommandTemplate.placeholder, with: backend) }
  }
}
