import ActorRuntime
import CommandLineOptions
import Diagnosis
import FaultInjection
import Glibc
import SystemCore

/// Options of every command that runs a tree: how long, where, what output,
/// which faults (nested-multierrors, run, compare).
struct RunOptions {
  static let options: [OptionSpec] = [
    OptionSpec("timeout", .value, help: "Seconds to wait for the whole tree to finish before diagnosing it as hung.", default: "10"),
    OptionSpec("run-dir", .value, help: "Where probe logs and evidence go (default: tractor-diag-runs/RUN-ID)."),
    OptionSpec("format", .value, help: "Output format: text, json or dot (compare: text or json).", default: "text"),
    OptionSpec(
      "fault", .repeated, help: "Inject a fault (repeatable): NAME or NAME@ACTOR. See `tractor-diag faults`.",
      valueName: "NAME[@ACTOR]"),
    .flag("no-stacks", help: "Skip native stacks (ptrace) in the hang evidence."),
  ]

  var timeout: Double
  var runDir: String?
  var format: OutputFormat
  var faults: [String]
  var noStacks: Bool

  init(_ a: ParsedArguments) throws(UsageError) {
    timeout = try a.double("timeout", default: 10)
    runDir = a.string("run-dir")
    format = try a.choice("format", default: OutputFormat.text)
    faults = a.strings("fault")
    noStacks = a.flag("no-stacks")
  }

  func validate() throws(UsageError) {
    guard timeout > 0 && timeout <= 3600 else { throw UsageError("--timeout must be in (0, 3600] seconds") }
    for f in faults {
      let name = String(f.split(separator: "@", maxSplits: 1).first ?? "")
      guard FaultCatalog.entries.contains(where: { $0.name == name }) else {
        throw UsageError("unknown fault '\(name)' (see `tractor-diag faults`)")
      }
    }
  }

  static func validate(backends: [String]) throws(UsageError) {
    for b in backends where !Backends.names.contains(b) {
      throw UsageError("unknown backend '\(b)' (expected one of: \(Backends.names.joined(separator: ", ")))")
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
struct TreeShape {
  static let options: [OptionSpec] = [
    OptionSpec("depth", .value, help: "Levels of spawners below the root's children (0-7; 7 is 1023 actors at breadth 2).", default: "1"),
    OptionSpec("breadth", .value, help: "Children per non-leaf actor (1-4).", default: "2"),
    OptionSpec("delay-ms", .value, help: "Milliseconds each errorer sleeps before it raises.", default: "0"),
  ]

  var depth: Int
  var breadth: Int
  var delayMs: Int

  init(_ a: ParsedArguments) throws(UsageError) {
    depth = try a.int("depth", default: 1)
    breadth = try a.int("breadth", default: 2)
    delayMs = try a.int("delay-ms", default: 0)
  }

  /// Whether any shape option was given (compare --watch takes none).
  static func given(_ a: ParsedArguments) -> Bool { options.contains { a.values[$0.name] != nil } }

  func validate() throws(UsageError) {
    guard (0...7).contains(depth) else { throw UsageError("--depth must be 0...7") }
    guard (1...4).contains(breadth) else { throw UsageError("--breadth must be 1...4") }
    guard actorCount <= TreeShape.maxActors else {
      throw UsageError("--depth \(depth) --breadth \(breadth) is \(actorCount) actors; at most \(TreeShape.maxActors)")
    }
    guard (0...60000).contains(delayMs) else { throw UsageError("--delay-ms must be 0...60000") }
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

/// One backend plus the run options: nested-multierrors and run.
struct TreeOptions {
  static let options: [OptionSpec] =
    [OptionSpec("backend", .value, help: "Spawn backend: spawn, fork or forkserver.", default: "spawn")] + RunOptions.options

  var backend: String
  var run: RunOptions

  init(_ a: ParsedArguments) throws(UsageError) {
    backend = a.string("backend") ?? "spawn"
    run = try RunOptions(a)
  }

  func validate() throws(UsageError) {
    try run.validate()
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
