import CommandLineOptions
import Diagnosis
import MiniJSON
import Probes
import Reports
import SystemCore

/// `report RUN-DIR`: an earlier run's verdict again, or its trace or timeline.
struct Report: CLICommand {
  static var name: String { "report" }
  static let spec = CommandSpec(
    name: name,
    abstract: "Print the verdict of an earlier run again, offline, from its run directory.",
    discussion: """
      A run directory of run, nested-multierrors or compare, or of `watch --run-dir`.
      --format dot draws the wait-for graph (Graphviz); --format perfetto prints the
      run's trace (as RUN-DIR/trace.json; open it in ui.perfetto.dev); --timeline
      prints the cascade in time order. The exit code is the verdict's.
      """,
    options: [
      OptionSpec("format", .value, help: "Output format: text, json, dot or perfetto.", default: "text"),
      .flag("timeline", help: "Print the cascade per actor in time order, in relative ms, instead of the verdict."),
    ],
    positionals: .one(name: "run-dir", help: "A run directory (holds run.json and probes/, or watch.json)."))

  var runDir: String
  var format: OutputFormat
  var timeline: Bool

  init(_ a: ParsedArguments) throws(UsageError) {
    runDir = a.positionals[0]
    format = try a.choice("format", default: OutputFormat.text)
    timeline = a.flag("timeline")
  }

  func validate() throws(UsageError) {
    try format.check([.text, .json, .dot, .perfetto], command: "report")
    if timeline && format != .text { throw UsageError("--timeline prints text; it takes no --format \(format.rawValue)") }
  }

  func run() {
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
