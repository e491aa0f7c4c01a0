/// Help as `tractor-diag help` and `--help` print it: an overview, the
/// discussion, a usage line and a table of arguments and options, wrapped at
/// 80 columns.
public enum HelpText {
  public static let width = 80
  /// The column where option and subcommand descriptions start.
  static let column = 26

  /// A command's help; `path` is how it is invoked (`tractor-diag snapshot`).
  public static func render(_ spec: CommandSpec, path: String) -> String {
    var out = wrapText("OVERVIEW: " + spec.abstract) + "\n"
    if !spec.discussion.isEmpty { out += "\n" + wrapText(spec.discussion) + "\n" }
    out += "\nUSAGE: " + (spec.usage ?? usageLine(spec, path: path)) + "\n"
    switch spec.positionals {
    case .none: break
    case .one(let name, let help), .many(let name, let help), .command(let name, let help):
      out += "\nARGUMENTS:\n" + row("  <\(name)>", help)
    }
    out += "\nOPTIONS:\n"
    for o in spec.options {
      let left = o.kind == .flag ? "  --\(o.name)" : "  --\(o.name) <\(o.valueName)>"
      out += row(left, o.help + (o.defaultText.map { " (default: \($0))" } ?? ""))
    }
    out += row("  -h, --help", "Show help information.")
    return out
  }

  /// The root's help: its overview and discussion, then one line per command.
  public static func render(root: CommandSpec, commands: [CommandSpec]) -> String {
    var out = wrapText("OVERVIEW: " + root.abstract) + "\n"
    if !root.discussion.isEmpty { out += "\n" + wrapText(root.discussion) + "\n" }
    out += "\nUSAGE: \(root.name) <subcommand>\n\nOPTIONS:\n" + row("  -h, --help", "Show help information.")
    out += "\nSUBCOMMANDS:\n"
    for c in commands { out += row("  " + c.name, c.abstract) }
    out += "\n  See '\(root.name) help <subcommand>' for detailed help.\n"
    return out
  }

  static func usageLine(_ spec: CommandSpec, path: String) -> String {
    var words = [path]
    for o in spec.options {
      switch o.kind {
      case .flag: words.append("[--\(o.name)]")
      case .value: words.append("[--\(o.name) <\(o.valueName)>]")
      case .repeated: words.append("[--\(o.name) <\(o.valueName)> ...]")
      }
    }
    switch spec.positionals {
    case .none: break
    case .one(let name, _): words.append("<\(name)>")
    case .many(let name, _): words.append("<\(name)> ...")
    case .command(let name, _): words.append("-- <\(name)> ...")
    }
    return wrapWords(words, indent: String(repeating: " ", count: 7 + path.count + 1), firstWidth: width - 7)
  }

  /// `left` padded to the description column (or on its own line when
  /// longer), then `text` wrapped below it.
  static func row(_ left: String, _ text: String) -> String {
    let pad = String(repeating: " ", count: column)
    let lines = wrapWords(text.split(separator: " ").map(String.init), indent: pad, firstWidth: width - column)
    if left.count + 2 <= column {
      return left + String(repeating: " ", count: column - left.count) + lines + "\n"
    }
    return left + "\n" + pad + lines + "\n"
  }

  /// Words joined by spaces into lines of at most `firstWidth` characters
  /// (then `width` minus the indent), later lines starting with `indent`.
  static func wrapWords(_ words: [String], indent: String, firstWidth: Int) -> String {
    var out = ""
    var line = ""
    var limit = firstWidth
    for w in words {
      if !line.isEmpty && line.count + 1 + w.count > limit {
        out += line + "\n" + indent
        line = ""
        limit = width - indent.count
      }
      line += line.isEmpty ? w : " " + w
    }
    return out + line
  }

  /// Each line as written, or wrapped at word boundaries when it is over
  /// `width`, continuation lines keeping its leading spaces.
  public static func wrapText(_ text: String) -> String {
    var out: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.count <= width {
        out.append(String(line))
        continue
      }
      let indent = String(line.prefix { $0 == " " })
      let words = line.split(separator: " ").map(String.init)
      out.append(indent + wrapWords(words, indent: indent, firstWidth: width - indent.count))
    }
    return out.joined(separator: "\n")
  }
}
