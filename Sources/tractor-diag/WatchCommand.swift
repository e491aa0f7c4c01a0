import ArgumentParser
import Diagnosis
import Glibc
import MiniJSON
import Reports
import SystemCore

struct Watch: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run any command; if it outlives the timeout, diagnose and kill its whole process tree.",
    usage: "tractor-diag watch [--timeout S] [--grace S] [--term-grace S] [--format text|json] [--no-stacks] -- CMD ARGS...",
    discussion: """
      The command runs with watch's stdin, stdout, stderr, cwd, environment and the
      signal mask and ignored signals watch was started with (none of watch's other
      fds), in a process group of its own but for the tree keeper, a small process
      that leads the group and kills it if watch itself is killed (SIGKILL, a crash),
      so that nothing of the tree outlives watch. Exit codes:
        the command's own status  it finished in time and left nothing alive after the grace
        124  it outlived the timeout: a snapshot of the whole tree (chains, terminals, what
             each is blocked on, stacks), then SIGTERM to its process group, SIGKILL after
             --term-grace, then every process of the tree is killed (also ones that called
             setsid, and reparented ones)
        3    it finished, but processes it started were still alive after --grace: they
             are reported as a leak and ended the same way
        70   internal error: the tree keeper (tractor-actor) could not be started
        127  the command could not be started
        130  Ctrl-C: one snapshot and verdict, then the tree is ended (a second Ctrl-C
             kills at once); SIGTERM or SIGHUP: the tree is ended the same way
             without a snapshot, exit 128 + the signal
      Processes that end by themselves within --grace after the command exits are
      reported as lingering (JSON `lingering`), not as a leak.
      With --format json the command's own stdout goes to stderr, and `exitCode` is
      watch's exit code.
      """)

  @Option(help: "Seconds to let the command run.")
  var timeout: Double = 60

  @Option(help: "Seconds the command's leftover processes get to end after it exits.")
  var grace: Double = 2

  @Option(help: "Seconds between the SIGTERM to the command's process group and the SIGKILL.")
  var termGrace: Double = 1

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
    // Passthrough capture takes `--help` for the command unless a `--` came first.
    if let first = command.first, first == "--help" || first == "-h" { throw CleanExit.helpRequest(self) }
    guard timeout > 0 && timeout <= 86400 else { throw ValidationError("--timeout must be in (0, 86400] seconds") }
    guard grace >= 0 && grace <= 3600 else { throw ValidationError("--grace must be in [0, 3600] seconds") }
    guard termGrace >= 0 && termGrace <= 3600 else { throw ValidationError("--term-grace must be in [0, 3600] seconds") }
    guard !argv.isEmpty else { throw ValidationError("no command given (usage: tractor-diag watch [--timeout S] -- CMD ARGS...)") }
  }

  func run() throws {
    let o = WatchRun.run(
      command: argv,
      options: WatchRun.Options(
        timeoutMs: Int(timeout * 1000), graceMs: Int(grace * 1000), termGraceMs: Int(termGrace * 1000), stacks: !noStacks,
        stdoutToStderr: format == .json, keeperExecutable: RunOptions.actorExecutable()))
    if let e = o.startError { fail(o.internalError ? Exit.internalError : Exit.commandNotStarted, e) }
    var v = o.verdict
    if v.outcome == "clean" {
      if format == .json {
        emit(watchJSON(v, o).pretty + "\n")
      } else if !v.lingering.isEmpty {
        // stdout is the command's; our note goes to stderr.
        let l = v.lingering.map { "\($0.name) \($0.pid) (\(Int($0.ms.rounded())) ms)" }.joined(separator: ", ")
        Syscalls.write("tractor-diag watch: clean; lingered after the command exited: \(l)\n", to: 2)
      }
      Syscalls.exit(v.exitCode)
    }
    switch v.outcome {
    case "hang": v.notes.append("the command outlived the \(timeout) s timeout")
    case "leak": v.notes.append("the command finished but left these processes running after the \(grace) s grace")
    default: break
    }
    emit(format == .json ? watchJSON(v, o).pretty + "\n" : VerdictText.render(v))
    Syscalls.exit(v.exitCode)
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
