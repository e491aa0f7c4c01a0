import CommandLineOptions
import Diagnosis
import Glibc
import MiniJSON
import Reports
import SystemCore

/// `watch -- CMD`: any command's tree, diagnosed if it outlives the timeout.
struct Watch: CLICommand {
  static var name: String { "watch" }
  static let spec = CommandSpec(
    name: name,
    abstract: "Run any command; if it outlives the timeout, diagnose and kill its whole process tree.",
    usage: """
      tractor-diag watch [--timeout S] [--grace S] [--term-grace S] [--format text|json|dot] [--no-stacks]
                         [--run-dir DIR] [--at S]... [--sample MS] [--on-stall S] [--control] -- CMD ARGS...
      """,
    // Lines stay under 80 columns: HelpText wraps longer ones.
    discussion: """
      The command runs with watch's stdin, stdout, stderr, cwd, environment,
      signal mask and ignored signals (none of watch's other fds), in a
      process group led by the tree keeper, a small process that kills the
      group if watch itself is killed (SIGKILL, a crash).

      Exit codes:
        (own)  the command's status: it finished in time and left nothing
               alive after --grace (what ended within it is "lingering")
        124    it outlived --timeout: a snapshot of the whole tree and a
               verdict, SIGTERM to its process group, SIGKILL after
               --term-grace, then every process of the tree is killed
        3      it finished, but processes it started were still alive
               after --grace: a leak, reported and ended the same way
        70     internal error: the tree keeper (tractor-actor) could not
               be started, or the run directory cannot be made
        127    the command could not be started
        130    Ctrl-C: one snapshot and verdict, then the tree is ended (a
               second Ctrl-C kills at once)
        128+N  signal N (SIGTERM, SIGHUP): ended the same way, no snapshot

      The run directory (--run-dir; default tractor-diag-runs/watch-ID, said
      on stderr) keeps watch.json, verdict.json, evidence.json, trace.json,
      samples.jsonl (--sample) and snapshot-<ms>ms.json (--at, --on-stall);
      none of these stops the command or changes its exit status.
      With --control, the command's processes (the pytest plugin in
      Integrations/pytest) can ask for a verdict on their own subtree, and
      have it ended, on the Unix socket named by TRACTOR_DIAG_CONTROL.
      With --format json the command's stdout goes to stderr, and
      `exitCode` is watch's exit code.
      """,
    options: [
      OptionSpec("timeout", .value, help: "Seconds to let the command run.", default: "60"),
      OptionSpec("grace", .value, help: "Seconds the command's leftover processes get to end after it exits.", default: "2"),
      OptionSpec(
        "term-grace", .value, help: "Seconds between the SIGTERM to the command's process group and the SIGKILL.", default: "1"),
      OptionSpec("format", .value, help: "Output format: text, json or dot.", default: "text"),
      .flag("no-stacks", help: "Skip native stacks (ptrace)."),
      .flag(
        "control",
        help: "Answer diagnosis requests from the command's processes on a Unix socket (path in TRACTOR_DIAG_CONTROL)."),
      // Time in watch: where the run's files go, and what is looked at while it runs.
      OptionSpec(
        "run-dir", .value,
        help: "Where watch.json, verdict.json, evidence.json, samples and snapshots go (default: tractor-diag-runs/watch-RUN-ID)."),
      OptionSpec(
        "at", .repeated,
        help: "A full snapshot (kernel, Python and native stacks) this long after the start, kept as RUN-DIR/snapshot-<ms>ms.json (repeatable).",
        valueName: "SECONDS"),
      OptionSpec(
        "sample", .value,
        help: "A light sample (state, syscall, wchan, CPU, wait edges; no stacks, no ptrace) of every process every MS ms, one JSON line each in RUN-DIR/samples.jsonl (at least \(WatchSchedule.minSampleMs); a sample of 10 processes costs ~4-7 ms of CPU: 50 or more keeps it under 15% of a core).",
        valueName: "MS"),
      OptionSpec(
        "on-stall", .value,
        help: "A full snapshot when no process used CPU and no wait edge changed for this long (once per stall).",
        valueName: "SECONDS"),
    ],
    positionals: .command(name: "command", help: "The command and its arguments (after --)."))

  var timeout: Double
  var grace: Double
  var termGrace: Double
  var format: OutputFormat
  var noStacks: Bool
  var control: Bool
  var runDir: String?
  var at: [Double]
  var sample: Int?
  var onStall: Double?
  /// The command as given: everything after our options' `--`, its own `--` kept.
  var argv: [String]

  init(_ a: ParsedArguments) throws(UsageError) {
    timeout = try a.double("timeout", default: 60)
    grace = try a.double("grace", default: 2)
    termGrace = try a.double("term-grace", default: 1)
    format = try a.choice("format", default: OutputFormat.text)
    noStacks = a.flag("no-stacks")
    control = a.flag("control")
    runDir = a.string("run-dir")
    at = try a.doubles("at")
    sample = try a.int("sample")
    onStall = try a.double("on-stall")
    argv = a.positionals
  }

  var schedule: WatchSchedule {
    WatchSchedule(atMs: at.map { Int(($0 * 1000).rounded()) }, sampleMs: sample, onStallMs: onStall.map { Int(($0 * 1000).rounded()) })
  }

  func validate() throws(UsageError) {
    try format.check(OutputFormat.verdictFormats, command: "watch")
    guard timeout > 0 && timeout <= 86400 else { throw UsageError("--timeout must be in (0, 86400] seconds") }
    guard grace >= 0 && grace <= 3600 else { throw UsageError("--grace must be in [0, 3600] seconds") }
    guard termGrace >= 0 && termGrace <= 3600 else { throw UsageError("--term-grace must be in [0, 3600] seconds") }
    guard !argv.isEmpty else { throw UsageError("no command given (usage: tractor-diag watch [--timeout S] -- CMD ARGS...)") }
    for a in at where !(a >= 0 && a <= timeout) { throw UsageError("--at \(a): must be in [0, --timeout] seconds") }
    if let s = sample, !(WatchSchedule.minSampleMs...60000).contains(s) {
      throw UsageError("--sample must be \(WatchSchedule.minSampleMs)...60000 ms")
    }
    if let s = onStall, !(s >= 0.05 && s <= 86400) { throw UsageError("--on-stall must be in [0.05, 86400] seconds") }
  }

  func run() {
    var options = WatchRun.Options(
      timeoutMs: Int(timeout * 1000), graceMs: Int(grace * 1000), termGraceMs: Int(termGrace * 1000), stacks: !noStacks,
      stdoutToStderr: format == .json, keeperExecutable: RunOptions.actorExecutable())
    let dirPath = runDir ?? RunDirectoryName.fresh(prefix: "watch-")
    do { options.runDir = try WatchRunDirectory(path: dirPath) } catch { fail(Exit.internalError, "cannot create the run directory: \(error)") }
    if format == .text { Syscalls.write("tractor-diag watch: run dir \(dirPath)\n", to: 2) }
    options.schedule = schedule
    options.snapshotter = SnapshotReport.watchSnapshotter(stacks: !noStacks)
    options.log = { Syscalls.write("tractor-diag watch: \($0)\n", to: 2) }
    if control {
      // Each request's verdict and evidence go into the watch's run dir.
      options.control = WatchControl.Config(stacks: !noStacks, runDir: dirPath, render: { VerdictText.render($0) })
    }
    let o = WatchRun.run(command: argv, options: options)
    if let e = o.startError { fail(o.internalError ? Exit.internalError : Exit.commandNotStarted, e) }
    // The Perfetto trace of the run dir (samples, snapshots), built from its files.
    if let err = WatchTrace.write(runDir: dirPath) { Syscalls.write("tractor-diag watch: no trace.json: \(err)\n", to: 2) }
    let v = o.verdict
    if v.outcome == "clean" {
      if format == .json {
        emit(o.json.pretty + "\n")
      } else if !v.lingering.isEmpty {
        // stdout is the command's; our note goes to stderr.
        let l = v.lingering.map { "\($0.name) \($0.pid) (\(Int($0.ms.rounded())) ms)" }.joined(separator: ", ")
        Syscalls.write("tractor-diag watch: clean; lingered after the command exited: \(l)\n", to: 2)
      }
      Syscalls.exit(v.exitCode)
    }
    emit(format == .json ? o.json.pretty + "\n" : render(v, format))
    Syscalls.exit(v.exitCode)
  }
}
