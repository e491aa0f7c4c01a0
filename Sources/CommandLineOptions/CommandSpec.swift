/// What a command accepts, declared once: its name, help texts, options and
/// positional arguments. The scanner (ArgumentScanner) and the help text
/// (HelpText) both read it, so an option cannot be documented and parsed
/// differently.
public struct CommandSpec: Sendable {
  public var name: String
  public var abstract: String
  /// Printed as written under the overview; lines over 80 columns are
  /// wrapped at word boundaries, keeping their indentation.
  public var discussion: String
  /// Replaces the generated `USAGE:` line when the generated one would mislead.
  public var usage: String?
  public var options: [OptionSpec]
  public var positionals: Positionals

  public init(
    name: String, abstract: String, usage: String? = nil, discussion: String = "", options: [OptionSpec] = [],
    positionals: Positionals = .none
  ) {
    self.name = name
    self.abstract = abstract
    self.discussion = discussion
    self.usage = usage
    self.options = options
    self.positionals = positionals
  }

  /// The option spelled `--name`, if this command has one.
  public func option(named name: String) -> OptionSpec? { options.first { $0.name == name } }
}

/// One `--name` option.
public struct OptionSpec: Sendable {
  public enum Kind: Sendable, Equatable {
    /// `--name`, no value.
    case flag
    /// `--name VALUE` or `--name=VALUE`; given twice, the last one counts.
    case value
    /// `--name VALUE`, repeatable; every value is kept in order.
    case repeated
  }

  /// The long name without its dashes (`run-dir`).
  public var name: String
  public var kind: Kind
  public var help: String
  /// Shown as `<valueName>` in help (default: the name).
  public var valueName: String
  /// Shown as `(default: ...)` in help; parsing never reads it (the command's
  /// own accessor holds the default, typed).
  public var defaultText: String?

  public init(_ name: String, _ kind: Kind, help: String, valueName: String? = nil, default defaultText: String? = nil) {
    self.name = name
    self.kind = kind
    self.help = help
    self.valueName = valueName ?? name
    self.defaultText = defaultText
  }

  public static func flag(_ name: String, help: String) -> OptionSpec { OptionSpec(name, .flag, help: help) }
}

/// The arguments that are not options.
public enum Positionals: Sendable {
  case none
  /// Exactly one, required (`run SCENARIO`).
  case one(name: String, help: String)
  /// Any number (`snapshot PID...`); a word starting with `-` that is not one
  /// of the command's options is still an unknown option.
  case many(name: String, help: String)
  /// Everything from `--` or from the first word that is not an option, kept
  /// verbatim, later `--` and `--help` included (`watch -- CMD ARGS...`).
  case command(name: String, help: String)
}
