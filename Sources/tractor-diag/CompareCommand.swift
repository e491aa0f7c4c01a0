import ActorRuntime
import CommandLineOptions
import Diagnosis
import Glibc
import Reports
import SystemCore

/// `compare`: one tree (ours, or a program's via --watch) across backends.
struct Compare: CLICommand {
  static var name: String { "compare" }
  static let spec = CommandSpec(
    name: name,
    abstract: "Run the same tree under several backends and show where they diverge.",
    discussion: """
      Two modes. Ours: the nested-multierrors tree (or --scenario) under our
      backends (spawn, fork, forkserver). --watch 'CMD ... {backend} ...': any
      program under its own backends (--backends is then required, names are the
      program's), each trial under watch (its own run dir, its tree sampled
      every 20 ms), compared by outcome (clean, hang, leak, failed with its
      status), duration, leaks, hang classes and the first divergence in process
      events (which processes appeared, in what order they exited). The command
      is split like a shell splits simple quoting, and run without a shell.

      Exit 0 when every backend and trial is clean, 1 when any hangs or leaks, 3
      otherwise, 130 on Ctrl-C (after the partial table).
      """,
    options: [
      OptionSpec(
        "backends", .value,
        help: "Comma-separated backends; the first is the reference (default spawn,fork,forkserver; required with --watch)."),
      OptionSpec(
        "watch", .value,
        help: "Compare a program across its own backends: a command line with {backend} where each backend's name goes.",
        valueName: "CMD"),
      OptionSpec("trials", .value, help: "Runs per backend (1-50).", default: "3"),
      OptionSpec("scenario", .value, help: "A scenario file to compare instead of nested-multierrors."),
    ] + TreeShape.options + RunOptions.options)

  var backends: String?
  var watch: String?
  var trials: Int
  var scenario: String?
  var shape: TreeShape
  /// Whether --depth, --breadth or --delay-ms was given (--watch takes none).
  var shapeGiven: Bool
  var options: RunOptions

  init(_ a: ParsedArguments) throws(UsageError) {
    backends = a.string("backends")
    watch = a.string("watch")
    trials = try a.int("trials", default: 3)
    scenario = a.string("scenario")
    shape = try TreeShape(a)
    shapeGiven = TreeShape.given(a)
    options = try RunOptions(a)
  }

  var backendList: [String] {
    (backends ?? "spawn,fork,forkserver").split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
  }

  func validate() throws(UsageError) {
    try shape.validate()
    try options.validate()
    let list = backendList
    guard !list.isEmpty else { throw UsageError("--backends is empty") }
    if let w = watch {
      do { _ = try CommandTemplate(w) } catch { throw UsageError("--watch: \(error)") }
      guard backends != nil else { throw UsageError("--watch needs --backends (the program's own backend names)") }
      guard scenario == nil, options.faults.isEmpty, !shapeGiven else {
        throw UsageError("--watch compares a program of yours: --scenario, --fault, --depth, --breadth and --delay-ms do not apply")
      }
      for b in list where !b.allSatisfy({ $0.isLetter || $0.isNumber || "_-.".contains($0) }) {
        throw UsageError("--backends: '\(b)' is not a plain name (letters, digits, _ - .)")
      }
    } else {
      try RunOptions.validate(backends: list)
    }
    try options.format.check([.text, .json], command: "compare")
    guard Set(list).count == list.count else { throw UsageError("--backends lists a backend twice") }
    guard (1...50).contains(trials) else { throw UsageError("--trials must be 1...50") }
  }

  func run() {
    if let w = watch { runWatch(w) }
    let s = options.withFaults(scenario.map(loadScenario) ?? shape.scenario)
    let base = options.runDirectory(prefix: "compare-")
    let progress = ProgressLine("compare")
    var results: [BackendTrials] = []
    let list = backendList
    var interrupted = false
    backends: for b in list {
      var verdicts: [Verdict] = []
      var cut: Verdict? = nil
      for t in 1...trials {
        progress.show("\(b) trial \(t)/\(trials)")
        let cfg = options.config(s, backend: b, runDir: "\(base)/\(b)-\(t)")
        let v = diagnose(cfg, stacks: !options.noStacks)
        if v.startError != nil { fail(Exit.internalError, "\(b) trial \(t) did not start: \(v.startError ?? "")") }
        // Ctrl-C: the supervisor killed and reaped this trial's tree; stop
        // here and report what ran (a signal during a later trial's start
        // stays pending and ends that trial at once the same way).
        if v.interrupted != nil {
          cut = v
          break
        }
        verdicts.append(v)
      }
      let seq = verdicts.first.map { BackendComparison.sequences(runDir: $0.runDir, actors: $0.actors) } ?? [:]
      var r = BackendTrials(backend: b, verdicts: verdicts, sequences: seq)
      r.interrupted = cut
      results.append(r)
      if cut != nil {
        interrupted = true
        break backends
      }
    }
    progress.clear()
    emit(options.format == .json ? BackendComparison.json(results).pretty + "\n" : CompareText.render(results, scenario: s.name))
    if interrupted { Syscalls.exit(Exit.interrupted) }
    let all = results.flatMap(\.verdicts)
    if all.contains(where: { $0.outcome == "hang" || $0.outcome == "leak" }) { Syscalls.exit(Exit.hangOrLeak) }
    Syscalls.exit(all.allSatisfy { $0.outcome == "clean" } ? Exit.clean : Exit.unexpected)
  }
}

extension String {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while s.first == " " { s = s.dropFirst() }
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}

extension Compare {
  /// compare --watch: the program once per backend and trial under watch.
  func runWatch(_ template: String) -> Never {
    guard let cmd = try? CommandTemplate(template) else { fail(Exit.usage, "--watch: cannot split the command") }
    let base = options.runDirectory(prefix: "compare-")
    let progress = ProgressLine("compare")
    let snapshotter = SnapshotReport.watchSnapshotter(stacks: !options.noStacks)
    var results: [WatchBackendTrials] = []
    var interrupted = false
    backends: for b in backendList {
      var r = WatchBackendTrials(backend: b, trials: [])
      for t in 1...trials {
        progress.show("\(b) trial \(t)/\(trials)")
        let dir = "\(base)/\(b)-\(t)"
        let result = WatchComparison.trial(
          argv: cmd.argv(backend: b), runDir: dir, timeoutMs: Int(options.timeout * 1000),
          stacks: !options.noStacks, snapshotter: snapshotter, keeperExecutable: RunOptions.actorExecutable())
        _ = WatchTrace.write(runDir: dir)  // each trial's trace.json, as a watch writes it
        switch result {
        case .failure(let e): fail(Exit.internalError, "\(b) trial \(t) did not start: \(e)")
        case .success(let trial):
          // Ctrl-C: watch ended and reaped this trial's tree; stop here.
          if trial.interrupted != nil {
            r.interrupted = trial
            interrupted = true
          } else {
            r.trials.append(trial)
          }
        }
        if interrupted { break }
      }
      results.append(r)
      if interrupted { break backends }
    }
    progress.clear()
    emit(
      options.format == .json
        ? WatchComparison.json(results, command: cmd.words, compareDir: base).pretty + "\n"
        : WatchCompareText.render(results, command: cmd.words, compareDir: base))
    if interrupted { Syscalls.exit(Exit.interrupted) }
    let all = results.flatMap(\.trials)
    if all.contains(where: { $0.outcome == .hang || $0.outcome == .leak }) { Syscalls.exit(Exit.hangOrLeak) }
    Syscalls.exit(all.allSatisfy { $0.outcome == .clean } ? Exit.clean : Exit.unexpected)
  }
}
