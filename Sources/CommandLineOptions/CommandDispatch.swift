/// Picks the command a command line names and scans its arguments: the
/// part of `main` that can be tested without running anything.
public enum CommandDispatch {
  public enum Outcome: Sendable {
    /// The root's help (`--help`, `help`, or no command at all).
    case rootHelp
    /// One command's help (`help NAME`, `NAME --help`).
    case help(CommandSpec)
    /// Run `commands[index]` with these arguments.
    case run(index: Int, ParsedArguments)
  }

  /// `args` without the executable's name; `names` the commands' names in
  /// order. Only the spec of the command that runs is built (`spec(index)`),
  /// not every command's help text.
  public static func resolve(_ args: [String], root: CommandSpec, names: [String], spec: (Int) -> CommandSpec)
    throws(UsageError) -> Outcome
  {
    guard let first = args.first, first != "-h", first != "--help" else { return .rootHelp }
    if first == "help" {
      guard args.count > 1 else { return .rootHelp }
      guard let index = names.firstIndex(of: args[1]) else {
        throw UsageError("help: unknown command '\(args[1])' (see \(root.name) --help)")
      }
      return .help(spec(index))
    }
    guard let index = names.firstIndex(of: first) else {
      if first.hasPrefix("-") { throw UsageError("unknown option '\(first)' (give a command first; see \(root.name) --help)") }
      throw UsageError("unknown command '\(first)' (see \(root.name) --help)")
    }
    let command = spec(index)
    switch try ArgumentScanner.scan(Array(args.dropFirst()), command) {
    case .help: return .help(command)
    case .parsed(let p): return .run(index: index, p)
    }
  }
}
