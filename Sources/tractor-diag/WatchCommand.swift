import ArgumentParser
import Diagnosis
import Glibc
import MiniJSON
import Reports
import SystemCore

struct Watch: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run any command; if it outlives the timeout, diagnose and kill its whole process tree.",
    discussion: """
      If the command finishes in time and leaves nothing behind, watch exits with the
      command's own status. If it outlives the timeout: a snapshot of the whole tree
      (chains, terminals, what each is blocked on, stacks), then every process of it is
      killed (also descendants that called setsid, and reparented ones) and the exit
      code is 1. If it finished but left descendants alive, they are reported as a leak,
      killed, and the exit code is 1. 127: the command could not be started.
      With --format json the command's own stdout goes to stderr.
      """)

  @Option(help: "Seconds to let the command run.")
  var timeout: Double = 60

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @Flag(help: "Skip native stacks (ptrace).")
  var noStacks = false

  @Argument(parsing: .captureForPassthrough, help: "The command and its arguments (after --).")
  var command: [String] = []

  /// The command as given: without the `--` that separates it from our
  /// options, and with every later `--` (the command's own) kept.
  var argv: [String] { command.first == "--" ? Array(command.dropFirst()) : command }

  func validate() throws {
    guard timeout > 0 && timeout <= 86400 else { throw ValidationError("--timeout must be in (0, 86400] seconds") }
    guard !argv.isEmpty else { throw ValidationError("no command given (usage: tractor-diag watch [--timeout S] -- CMD ARGS...)") }
  }

  func run() throws {
    let o = WatchRun.run(command: argv, timeoutMs: Int(timeout * 1000), stacks: !noStacks, stdoutToStderr: format == .json)
    if let e = o.startError { fail(Exit.commandNotStarted, e) }
    var v = o.verdict
    if v.outcome == "clean" {
      if format == .json {
        emit(watchJSON(v, o).pretty + "\n")
      }
      Syscalls.exit(o.commandStatus?.code ?? 0)
    }
    v.notes.append(v.outcome == "hang" ? "the command outlived the \(timeout) s timeout" : "the command finished but left these processes running")
    emit(format == .json ? watchJSON(v, o).pretty + "\n" : VerdictText.render(v))
    Syscalls.exit(v.interrupted != nil ? Exit.interrupted : Exit.hangOrLeak)
  }

  func watchJSON(_ v: Verdict, _ o: WatchRun.Outcome) -> JSONValue {
    var j = v.json
    if case .object(var pairs) = j {
      pairs.insert(("commandStatus", o.commandStatus.map { .int(Int64($0.code)) } ?? .null), at: 2)
      pairs.insert(("command", .array(argv.map { .string($0) })), at: 2)
      j = .object(pairs)
    }
    return j
  }
}
