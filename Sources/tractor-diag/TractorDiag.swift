import ActorRuntime
import CommandLineOptions
import Diagnosis
import FaultInjection
import Glibc
import MiniJSON
import Probes
import Reports
import SystemCore

/// Prints one line to stderr and exits with `code`.
func fail(_ code: Int32, _ message: String) -> Never {
  Syscalls.write("tractor-diag: \(message)\n", to: 2)
  Syscalls.exit(code)
}

func emit(_ text: String) { Syscalls.write(text, to: 1) }

/// Every output format; each command says which it speaks (`check`).
enum OutputFormat: String, CaseIterable, Sendable {
  case text, json
  /// Graphviz: the verdict's wait-for graph (run, nested-multierrors, report, watch).
  case dot
  /// Chrome/Perfetto trace of a run directory (report).
  case perfetto

  /// A format this command does not speak is a usage error (exit 64).
  func check(_ supported: [OutputFormat], command: String) throws(UsageError) {
    guard supported.contains(self) else {
      throw UsageError(
        "--format \(rawValue) is not available for \(command) (use \(supported.map(\.rawValue).joined(separator: ", ")))")
    }
  }

  static let verdictFormats: [OutputFormat] = [.text, .json, .dot]
}

/// A verdict in the chosen format (text, json or dot).
func render(_ v: Verdict, _ format: OutputFormat) -> String {
  switch format {
  case .json: return v.json.pretty + "\n"
  case .dot: return VerdictDot.render(v)
  case .text, .perfetto: return VerdictText.render(v)
  }
}

/// Runs one tree; after its verdict, writes RUN-DIR/trace.json from the
/// files the verdict was built from (~65 ms for a depth-5 run; a failure to
/// write it is a note on stderr, never a different verdict).
func diagnose(_ cfg: RunConfig, stacks: Bool) -> Verdict {
  DiagnosedRun.run(cfg, stacks: stacks) { files, log, v in
    if let why = RunTrace.write(files, log: log, verdict: v) {
      Syscalls.write("tractor-diag: no trace.json in \(v.runDir): \(why)\n", to: 2)
    }
  }
}

/// One command of the CLI: its spec (options, help), how it reads its
/// parsed arguments, what it checks before running, and the run.
protocol CLICommand: Sendable {
  /// The word that selects the command (the spec's name).
  static var name: String { get }
  static var spec: CommandSpec { get }
  init(_ args: ParsedArguments) throws(UsageError)
  /// Checks that need more than one option (or the world); ranges too.
  func validate() throws(UsageError)
  func run()
}

extension CLICommand {
  func validate() throws(UsageError) {}
}

@main
enum TractorDiag {
  static let root = CommandSpec(
    name: "tractor-diag",
    abstract: "Find out why a tree of actor processes does not shut down.",
    discussion: """
      Builds real actor trees (or watches any process tree), and when they do not
      finish, names the processes that never reached EXIT, the wait-for chain
      across processes, what the terminal process is blocked on, and the class
      of hang. It always kills and reaps every process it started.

      Exit codes: 0 clean and as expected; 1 hang or leak found; 3 no hang but an
      unexpected outcome; 64 usage error; 65 malformed input file or logs too
      damaged to analyse; 70 internal error; 130 interrupted (the tree was killed).
      watch has its own: the command's status, 124 past the timeout, 3 processes left
      after the grace, 127 not started (see tractor-diag watch --help).
      """)

  static let commands: [any CLICommand.Type] = [
    NestedMultierrors.self, RunScenario.self, Compare.self, Report.self, Snapshot.self, Watch.self, Faults.self,
    BenchCommand.self,
  ]

  /// Help goes to stdout (exit 0); a usage error is one line on stderr,
  /// `tractor-diag: <what>`, exit 64.
  static func main() {
    let args = Array(CommandLine.arguments.dropFirst())
    do {
      // Only the command that runs builds its spec (help texts included).
      switch try CommandDispatch.resolve(args, root: root, names: commands.map { $0.name }, spec: { commands[$0].spec }) {
      case .rootHelp:
        emit(HelpText.render(root: root, commands: commands.map { $0.spec }))
      case .help(let spec):
        emit(HelpText.render(spec, path: "\(root.name) \(spec.name)"))
      case .run(let index, let parsed):
        let command = try commands[index].init(parsed)
        try command.validate()
        command.run()
      }
    } catch {
      fail(Exit.usage, error.message)
    }
    Syscalls.exit(Exit.clean)
  }
}
