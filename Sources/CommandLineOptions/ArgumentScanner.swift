/// Splits one command's arguments (after its name) by its CommandSpec.
///
/// Rules, the ones a shell user expects and nothing more: options and
/// positionals in any order; `--name VALUE` and `--name=VALUE`; a flag given a
/// value (`--tree=1`) or a value option without one is an error; `-h` and
/// `--help` anywhere before a `--` ask for help; `--` ends the options. No
/// short options, no abbreviations, no negative numbers as values of the
/// form `-5` taken for options: a value is whatever word follows its option.
public enum ArgumentScanner {
  public enum Outcome: Sendable {
    case help
    case parsed(ParsedArguments)
  }

  public static func scan(_ args: [String], _ spec: CommandSpec) throws(UsageError) -> Outcome {
    var parsed = ParsedArguments()
    var i = 0
    while i < args.count {
      let word = args[i]
      i += 1
      if word == "--" {
        parsed.positionals.append(contentsOf: args[i...])
        if case .command = spec.positionals { return .parsed(parsed) }
        try checkPositionals(parsed.positionals, spec)
        return .parsed(parsed)
      }
      if word == "-h" || word == "--help" { return .help }
      if word.hasPrefix("--") {
        let body = word.dropFirst(2)
        let name: String
        var inline: String? = nil
        if let eq = body.firstIndex(of: "=") {
          name = String(body[..<eq])
          inline = String(body[body.index(after: eq)...])
        } else {
          name = String(body)
        }
        guard let option = spec.option(named: name) else {
          throw UsageError("\(spec.name): unknown option '--\(name)'")
        }
        switch option.kind {
        case .flag:
          if inline != nil { throw UsageError("\(spec.name): --\(name) takes no value") }
          parsed.flags.insert(name)
        case .value, .repeated:
          let value: String
          if let v = inline {
            value = v
          } else {
            guard i < args.count else { throw UsageError("\(spec.name): --\(name) needs a value (<\(option.valueName)>)") }
            value = args[i]
            i += 1
          }
          if option.kind == .value {
            parsed.values[name] = [value]
          } else {
            parsed.values[name, default: []].append(value)
          }
        }
        continue
      }
      switch spec.positionals {
      case .command:
        // The command starts here: it and everything after it are its own.
        parsed.positionals.append(contentsOf: args[(i - 1)...])
        return .parsed(parsed)
      case .many:
        // `-5` is a (bad) PID for the command to judge; `-x` is an unknown option.
        if word.hasPrefix("-") && word.count > 1 && Int(word) == nil {
          throw UsageError("\(spec.name): unknown option '\(word)'")
        }
        parsed.positionals.append(word)
      case .one, .none:
        if word.hasPrefix("-") && word.count > 1 { throw UsageError("\(spec.name): unknown option '\(word)'") }
        parsed.positionals.append(word)
      }
    }
    try checkPositionals(parsed.positionals, spec)
    return .parsed(parsed)
  }

  private static func checkPositionals(_ words: [String], _ spec: CommandSpec) throws(UsageError) {
    switch spec.positionals {
    case .none:
      if let w = words.first { throw UsageError("\(spec.name): unexpected argument '\(w)'") }
    case .one(let name, _):
      if words.isEmpty { throw UsageError("\(spec.name): missing <\(name)>") }
      if words.count > 1 { throw UsageError("\(spec.name): unexpected argument '\(words[1])' (one <\(name)> only)") }
    case .many, .command:
      break
    }
  }
}
