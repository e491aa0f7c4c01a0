import ActorRuntime
import ArgumentParser
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
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
  case text, json
  /// Graphviz: the verdict's wait-for graph (run, nested-multierrors, report, watch).
  case dot
  /// Chrome/Perfetto trace of a run directory (report).
  case perfetto

  /// A format this command does not speak is a usage error (exit 64).
  func check(_ supported: [OutputFormat], command: String) throws {
    guard supported.contains(self) else {
      throw ValidationError(
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

@main
struct TractorDiag: ParsableCommand {
  static let configuration = CommandConfiguration(
    // Every command names itself: without a name, ArgumentParser derives it
    // from the type with String(describing:), whose protocol-conformance scan
    // over the statically linked libraries was a quarter of the tool's
    // start-up (perf, `tractor-diag faults`).
    commandName: "tractor-diag",
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
      """,
    subcommands: [NestedMultierrors.self, RunScenario.self, Compare.self, Report.self, Snapshot.self, Watch.self, Faults.self, BenchCommand.self])

  /// As ArgumentParser's, except that a usage error is one line on stderr
  /// (`tractor-diag: <what>`, exit 64) rather than the error, the usage and a hint.
  static func main() {
    if CommandLine.arguments.dropFirst().first == Snapshot.configuration.commandName {
      Snapshot.prefetch.withLock { $0 = SnapshotPrefetch.start() }
    }
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      if exitCode(for: error) == .validationFailure {
        let lines = message(for: error).split(separator: "\n", omittingEmptySubsequences: true)
        fail(Exit.usage, String(lines.first ?? "usage error"))
      }
      exit(withError: error)
    }
  }
}

/// Options of every command that runs a tree: how long, where, what output,
/// which faults (nested-multierrors, run, compare).
struct RunOptions: ParsableArguments {
  @Option(help: "Seconds to wait for the whole tree to finish before diagnosing it as hung.")
  var timeout: Double = 10

  @Option(help: "Where probe logs and evidence go (default: tractor-diag-runs/RUN-ID).")
  var runDir: String?

  @Option(help: "Output format: text, json or dot (compare: text or json).")
  var format: OutputFormat = .text

  @Option(
    name: .customLong("fault"),
    help: ArgumentHelp("Inject a fault (repeatable): NAME or NAME@ACTOR. See `tractor-diag faults`.", valueName: "NAME[@ACTOR]"))
  var faults: [String] = []

  @Flag(help: "Skip native stacks (ptrace) in the hang evidence.")
  var noStacks = false

  func validate() throws {
    guard timeout > 0 && timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
    for f in faults {
      let name = String(f.split(separator: "@", maxSplits: 1).first ?? "")
      guard FaultCatalog.entries.contains(where: { $0.name == name }) else {
        throw ValidationError("unknown fault '\(name)' (see `tractor-diag faults`)")
      }
    }
  }

  static func validate(backends: [String]) throws {
    for b in backends where !Backends.names.contains(b) {
      throw ValidationError("unknown backend '\(b)' (expected one of: \(Backends.names.joined(separator: ", ")))")
    }
  }

  func runDirectory(prefix: String = "") -> String {
    runDir ?? RunDirectoryName.fresh(prefix: prefix)
  }

  /// The scenario with the --fault options applied (a bad @ACTOR is a usage
  /// error), and every fault of the tree turned into runtime settings.
  func withFaults(_ scenario: Scenario) -> Scenario {
    var s = scenario
    do { try FaultCatalog.apply(faults, to: &s) } catch { fail(Exit.usage, "\(error)") }
    FaultInjection.settle(&s)
    return s
  }

  func config(_ s: Scenario, backend: String, runDir: String) -> RunConfig {
    RunConfig(
      scenario: s, backend: backend, runDir: runDir, timeoutMs: Int(timeout * 1000), bounds: s.bounds,
      actorExecutable: RunOptions.actorExecutable())
  }

  /// `tractor-actor`, built beside this executable; the environment
  /// variable TRACTOR_DIAG_ACTOR overrides it, unchecked (for tests of a
  /// run whose actors cannot be started: exit 70).
  static func actorExecutablePath() -> String? {
    if let p = getenv("TRACTOR_DIAG_ACTOR") { return String(cString: p) }
    let dir = Syscalls.executablePath().split(separator: "/", omittingEmptySubsequences: false).dropLast()
    let path = dir.joined(separator: "/") + "/tractor-actor"
    return Syscalls.isExecutable(path) ? path : nil
  }

  static func actorExecutable() -> String {
    guard let path = actorExecutablePath() else {
      fail(Exit.internalError, "actor executable tractor-actor not found beside \(Syscalls.executablePath()) (build the package)")
    }
    return path
  }
}

/// The shape of tractor's nested-multierrors tree.
struct TreeShape: ParsableArguments {
  @Option(help: "Levels of spawners below the root's children (0-7; 7 is 1023 actors at breadth 2).")
  var depth: Int = 1

  @Option(help: "Children per non-leaf actor (1-4).")
  var breadth: Int = 2

  @Option(help: "Milliseconds each errorer sleeps before it raises.")
  var delayMs: Int = 0

  func validate() throws {
    guard (0...7).contains(depth) else { throw ValidationError("--depth must be 0...7") }
    guard (1...4).contains(breadth) else { throw ValidationError("--breadth must be 1...4") }
    guard actorCount <= TreeShape.maxActors else {
      throw ValidationError("--depth \(depth) --breadth \(breadth) is \(actorCount) actors; at most \(TreeShape.maxActors)")
    }
    guard (0...60000).contains(delayMs) else { throw ValidationError("--delay-ms must be 0...60000") }
  }

  var scenario: Scenario { Scenario.nestedMultierrors(depth: depth, breadth: breadth, delayMs: delayMs) }

  /// The largest tree held to run clean on a 2-core machine: depth 7 at breadth 2.
  static let maxActors = 1023

  /// 1 + b + b^2 + ... + b^(depth+2).
  var actorCount: Int {
    var total = 0
    var level = 1
    for _ in 0...(depth + 2) {
      total += level
      level *= breadth
    }
    return total
  }
}

/// The largest scenario file accepted (a 1023-actor tree is ~150 KiB).
let scenarioSizeLimit = 4 << 20

/// Reads and parses a scenario file; a problem (not a regular file, over the
/// size limit, an unknown fault name too) is a one-line error, exit 65.
func loadScenario(_ path: String) -> Scenario {
  let bytes: [UInt8]
  do { bytes = try InputFile.read(path, limit: scenarioSizeLimit) } catch {
    fail(Exit.badInput, "cannot read scenario file \(path): \(error)")
  }
  guard let text = String(validating: bytes, as: UTF8.self) else { fail(Exit.badInput, "\(path): not UTF-8 text") }
  do {
    let s = try ScenarioParser.parse(text: text)
    try FaultInjection.validate(s)
    return s
  } catch { fail(Exit.badInput, "\(path): \(error)") }
}

/// One backend plus the run options: nested-multierrors and run.
struct TreeOptions: ParsableArguments {
  @Option(help: "Spawn backend: spawn, fork or forkserver.")
  var backend: String = "spawn"

  @OptionGroup var run: RunOptions

  func validate() throws {
    try RunOptions.validate(backends: [backend])
    try run.format.check(OutputFormat.verdictFormats, command: "run and nested-multierrors")
  }

  /// Runs the scenario and prints the verdict; exits with the verdict's code.
  func runAndReport(_ scenario: Scenario) -> Never {
    let cfg = run.config(run.withFaults(scenario), backend: backend, runDir: run.runDirectory())
    let v = diagnose(cfg, stacks: !run.noStacks)
    emit(render(v, run.format))
    Syscalls.exit(v.exitCode)
  }
}

struct NestedMultierrors: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nested-multierrors",
    abstract: "Build tractor's test_nested_multierrors tree and diagnose its teardown.",
    discussion: "depth d gives d+2 levels below the root; depth 1, breadth 2 is 15 actors.")

  @OptionGroup var shape: TreeShape

  @OptionGroup var options: TreeOptions

  func run() throws {
    options.runAndReport(shape.scenario)
  }
}

struct RunScenario: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run", abstract: "Build the actor tree a scenario file describes and diagnose its teardown.")

  @Argument(help: "A scenario JSON file (see Fixtures/scenarios and the README).")
  var scenario: String

  @OptionGroup var options: TreeOptions

  func run() throws {
    options.runAndReport(loadScenario(scenario))
  }
}

struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Print the verdict of an earlier run again, offline, from its run directory.",
    discussion: """
      A run directory of run, nested-multierrors or compare, or of `watch --run-dir`.
      --format dot draws the wait-for graph (Graphviz); --format perfetto prints the
      run's trace (as RUN-DIR/trace.json; open it in ui.perfetto.dev); --timeline
      prints the cascade in time order. The exit code is the verdict's.
      """)

  @Argument(help: "A run directory (holds run.json and probes/, or watch.json).")
  var runDir: String

  @Option(help: "Output format: text, json, dot or perfetto.")
  var format: OutputFormat = .text

  @Flag(help: "Print the cascade per actor in time order, in relative ms, instead of the verdict.")
  var timeline = false

  func validate() throws {
    try format.check([.text, .json, .dot, .perfetto], command: "report")
    if timeline && format != .text { throw ValidationError("--timeline prints text; it takes no --format \(format.rawValue)") }
  }

  func run() throws {
    if WatchRunDir.isWatchRun(runDir) && Syscalls.readFile(runDir + "/run.json") == nil { reportWatch() }
    let files: RunFiles
    do { files = try RunFiles.load(runDir) } catch { fail(Exit.badInput, "\(error)") }
    let log: ProbeLog
    do { log = try ProbeLog.read(runDir: runDir) } catch { fail(Exit.badInput, "\(error)") }
    let v = VerdictBuilder.build(files, log: log)
    if timeline {
      let sup = files.supervisor
      emit(
        RunTimeline.render(
          log, verdict: v, supervisor: sup?["supervisorPid"]?.int.map { Int32($0) },
          startNs: sup?["startNs"]?.int.map { UInt64($0) }))
    } else if format == .perfetto {
      emit(RunTrace.build(files, log: log, verdict: v).text)
    } else {
      emit(render(v, format))
    }
    Syscalls.exit(v.exitCode)
  }

  /// A `watch --run-dir` directory: timeline and trace from its samples;
  /// the verdict (text, dot) rebuilt from its evidence.json as watch does,
  /// JSON as watch printed it (verdict.json). Exits with watch's code.
  func reportWatch() -> Never {
    let w: WatchRunDir
    do { w = try WatchRunDir.load(runDir) } catch { fail(Exit.badInput, "\(error)") }
    let code = Int32(w.exitCode ?? 0)
    if timeline { emit(WatchTimeline.render(w)); Syscalls.exit(code) }
    switch format {
    case .perfetto: emit(WatchTrace.build(w).text)
    case .json:
      guard let b = Syscalls.readFile(runDir + "/verdict.json") else { fail(Exit.badInput, "\(runDir) has no verdict.json") }
      emit(String(decoding: b, as: UTF8.self))
    case .text, .dot:
      guard let b = Syscalls.readFile(runDir + "/evidence.json"), let j = try? JSONParser.parse(bytes: b) else {
        fail(Exit.badInput, "\(runDir) has no readable evidence.json")
      }
      var v = ForeignTreeVerdict.build(
        command: w.command, evidence: Evidence.load(json: j), stillRunning: w.outcome != "leak", commandPid: w.commandPid,
        t0: w.startNs)
      v.exitCodeOverride = code
      emit(render(v, format))
    }
    Syscalls.exit(code)
  }
}

struct Faults: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "faults", abstract: "List the fault catalog: what each fault does and the class it must be diagnosed as.")

  func run() throws {
    var out = ""
    for e in FaultCatalog.entries {
      out += e.name.padded(22) + e.hangClass.padded(32) + e.summary + "\n"
    }
    emit(out)
  }
}
