import CommandLineOptions
import Testing

/// The scanner and dispatch on their own: which words become which options,
/// what is a usage error, and what asks for help. (The real CLI's commands
/// are run end to end in EndToEndTests.)
@Suite(.timeLimit(.minutes(1)))
struct ArgumentScannerTests {
  static let watch = CommandSpec(
    name: "watch", abstract: "w",
    options: [OptionSpec("timeout", .value, help: "t"), OptionSpec("at", .repeated, help: "a"), .flag("no-stacks", help: "n")],
    positionals: .command(name: "command", help: "c"))
  static let snapshot = CommandSpec(
    name: "snapshot", abstract: "s", options: [.flag("tree", help: "t"), OptionSpec("max-frames", .value, help: "m")],
    positionals: .many(name: "PID", help: "p"))
  static let run = CommandSpec(
    name: "run", abstract: "r", options: [OptionSpec("format", .value, help: "f")], positionals: .one(name: "scenario", help: "s"))
  static let root = CommandSpec(name: "tool", abstract: "root")

  func parsed(_ args: [String], _ spec: CommandSpec) throws -> ParsedArguments {
    guard case .parsed(let p) = try ArgumentScanner.scan(args, spec) else {
      Issue.record("help instead of arguments for \(args)")
      return ParsedArguments()
    }
    return p
  }

  func usageError(_ args: [String], _ spec: CommandSpec) -> String? {
    do {
      _ = try ArgumentScanner.scan(args, spec)
      return nil
    } catch { return error.message }
  }

  @Test func optionsAndPositionalsInAnyOrder() throws {
    let p = try parsed(["--format", "json", "s.json"], Self.run)
    #expect(p.string("format") == "json" && p.positionals == ["s.json"])
    let q = try parsed(["s.json", "--format=dot", "--format", "text"], Self.run)
    #expect(q.string("format") == "text", "the last value counts")
    #expect(q.positionals == ["s.json"])
  }

  @Test func repeatedOptionsKeepEveryValueInOrder() throws {
    let p = try parsed(["--at", "1", "--at=2.5", "--no-stacks", "--", "sleep", "9"], Self.watch)
    #expect(try p.doubles("at") == [1, 2.5])
    #expect(p.flag("no-stacks") && !p.flag("timeout"))
  }

  @Test func theCommandKeepsItsOwnDashesAndHelp() throws {
    let p = try parsed(["--timeout", "5", "--", "sh", "-c", "x", "--", "--help"], Self.watch)
    #expect(p.positionals == ["sh", "-c", "x", "--", "--help"])
    // Without `--`, the first word that is not an option starts the command.
    let q = try parsed(["sleep", "--timeout", "3"], Self.watch)
    #expect(q.positionals == ["sleep", "--timeout", "3"] && q.string("timeout") == nil)
  }

  @Test func helpAnywhereBeforeTheCommand() throws {
    for args in [["--help"], ["-h"], ["--timeout", "3", "--help"]] {
      guard case .help = try ArgumentScanner.scan(args, Self.watch) else {
        Issue.record("no help for \(args)")
        continue
      }
    }
  }

  @Test func negativeNumbersArePositionalsForTheCommandToJudge() throws {
    #expect(try parsed(["-5", "--tree"], Self.snapshot).positionals == ["-5"])
    #expect(usageError(["-x"], Self.snapshot) == "snapshot: unknown option '-x'")
  }

  @Test(arguments: [
    (["--frobnicate"], "snapshot: unknown option '--frobnicate'"),
    (["--tree=yes"], "snapshot: --tree takes no value"),
    (["1", "--max-frames"], "snapshot: --max-frames needs a value (<max-frames>)"),
  ])
  func badOptions(args: [String], message: String) {
    #expect(usageError(args, Self.snapshot) == message)
  }

  @Test func positionalCounts() {
    #expect(usageError([], Self.run) == "run: missing <scenario>")
    #expect(usageError(["a", "b"], Self.run) == "run: unexpected argument 'b' (one <scenario> only)")
    #expect(usageError(["x"], Self.root) == "tool: unexpected argument 'x'")
  }

  @Test func typedValuesNameTheOption() throws {
    let p = try parsed(["--max-frames", "lots", "1"], Self.snapshot)
    #expect(throws: UsageError("--max-frames 'lots': not an integer")) { try p.int("max-frames") }
    let q = try parsed(["--timeout", "nan", "--", "x"], Self.watch)
    #expect(throws: UsageError("--timeout 'nan': not a number")) { try q.double("timeout") }
    #expect(try q.int("absent", default: 7) == 7)
  }

  enum Shade: String, CaseIterable { case light, dark }

  @Test func choicesListTheValues() throws {
    let p = try parsed(["--format", "grey", "x"], Self.run)
    #expect(throws: UsageError("--format 'grey': not one of light, dark")) { try p.choice("format", default: Shade.light) }
    #expect(try parsed(["x"], Self.run).choice("format", default: Shade.dark) == .dark)
  }

  @Test func dispatchPicksTheCommandOrHelp() throws {
    let cmds = [Self.watch, Self.snapshot, Self.run]
    func outcome(_ args: [String]) throws -> String {
      switch try CommandDispatch.resolve(args, root: Self.root, names: cmds.map(\.name), spec: { cmds[$0] }) {
      case .rootHelp: return "root"
      case .help(let s): return "help " + s.name
      case .run(let i, let p): return cmds[i].name + " " + p.positionals.joined(separator: " ")
      }
    }
    #expect(try outcome([]) == "root")
    #expect(try outcome(["--help"]) == "root")
    #expect(try outcome(["help"]) == "root")
    #expect(try outcome(["help", "run"]) == "help run")
    #expect(try outcome(["snapshot", "-h"]) == "help snapshot")
    #expect(try outcome(["snapshot", "1", "2"]) == "snapshot 1 2")
    #expect(throws: UsageError("unknown command 'frob' (see tool --help)")) { try outcome(["frob"]) }
    #expect(throws: UsageError("help: unknown command 'frob' (see tool --help)")) { try outcome(["help", "frob"]) }
    #expect(throws: UsageError("unknown option '--tree' (give a command first; see tool --help)")) { try outcome(["--tree"]) }
  }
}

extension ArgumentScannerTests {
  /// Dispatch by name builds only the spec of the command that runs (the
  /// others' help texts cost start-up time for nothing).
  @Test func onlyTheChosenSpecIsBuilt() throws {
    let cmds = [Self.watch, Self.snapshot, Self.run]
    var built: [Int] = []
    let outcome = try CommandDispatch.resolve(["snapshot", "7"], root: Self.root, names: cmds.map(\.name)) { i in
      built.append(i)
      return cmds[i]
    }
    guard case .run(let index, let p) = outcome else {
      Issue.record("not a run: \(outcome)")
      return
    }
    #expect(index == 1 && p.positionals == ["7"])
    #expect(built == [1])
  }
}

@Suite(.timeLimit(.minutes(1)))
struct HelpTextTests {
  @Test func optionsTableWrapsAt80Columns() {
    let spec = CommandSpec(
      name: "snap", abstract: "Take one.",
      discussion: "A paragraph " + String(repeating: "word ", count: 30) + "end.\n  indented line stays",
      options: [
        OptionSpec("format", .value, help: "Output format.", default: "text"),
        .flag("a-rather-long-flag-name-here", help: String(repeating: "help ", count: 25)),
      ],
      positionals: .many(name: "PID", help: "Process ids."))
    let text = HelpText.render(spec, path: "tool snap")
    #expect(text.hasPrefix("OVERVIEW: Take one.\n\nA paragraph word"))
    #expect(text.contains("\n  indented line stays\n"))
    #expect(text.contains("USAGE: tool snap [--format <format>] [--a-rather-long-flag-name-here] <PID> ...\n"))
    #expect(text.contains("\n  --format <format>       Output format. (default: text)\n"))
    #expect(text.contains("\n  --a-rather-long-flag-name-here\n                          help help"))
    #expect(text.contains("\n  -h, --help              Show help information.\n"))
    for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
  }

  @Test func rootListsTheCommands() {
    let root = CommandSpec(name: "tool", abstract: "Does things.", discussion: "Exit codes: 0 fine.")
    let text = HelpText.render(root: root, commands: [CommandSpec(name: "run", abstract: "Run one.")])
    #expect(text.contains("USAGE: tool <subcommand>"))
    #expect(text.contains("\nSUBCOMMANDS:\n  run                     Run one.\n"))
    #expect(text.contains("Exit codes: 0 fine."))
  }
}
