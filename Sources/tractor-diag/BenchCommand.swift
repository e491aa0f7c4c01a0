import CommandLineOptions
import Bench
import Diagnosis

/// `tractor-diag bench`: medians of spawn-to-verdict, per-actor spawn cost,
/// probe cost and snapshot/stack cost, each against its target and against
/// baselines measured in the same invocation. Always exits 0 (130 when
/// interrupted): benchmarks report, they never fail the build.
struct BenchCommand: CLICommand {
  static var name: String { "bench" }
  static let spec = CommandSpec(
    name: name,
    abstract: "Measure spawn, probe, teardown and snapshot costs; prints medians and ratios (make bench).",
    discussion: """
      Every number is a median over --runs repetitions (default 9; --quick uses 3,
      fewer baseline samples, and skips depth-3 runs of spawn/fork and most eu-stack
      runs).
      Per-actor spawn cost is measured one spawn at a time (a 9-actor chain, 8
      spawns per run); the same cost inside depth-1 and depth-3 trees, where 15 or
      63 actors queue for the CPUs, is printed beside it.
      Baselines (fork+_exit+reap, posix_spawn /bin/true, raw write(2), eu-stack)
      are measured in the same invocation. Run dirs go to /tmp/tractor-diag-bench
      and are deleted; every process started here is killed and reaped.
      """,
    options: [
      OptionSpec("runs", .value, help: "Repetitions per measurement; medians are taken over these (default 9, or 3 with --quick)."),
      .flag("quick", help: "3 repetitions and skip the slowest parts."),
      OptionSpec("format", .value, help: "Output format: text or json.", default: "text"),
      OptionSpec("only", .repeated, help: "Run only this part (repeatable): \(BenchRunner.sections.joined(separator: ", "))."),
    ])

  var runs: Int?
  var quick: Bool
  var format: OutputFormat
  var only: [String]

  init(_ a: ParsedArguments) throws(UsageError) {
    runs = try a.int("runs")
    quick = a.flag("quick")
    format = try a.choice("format", default: OutputFormat.text)
    only = a.strings("only")
  }

  func validate() throws(UsageError) {
    try format.check([.text, .json], command: "bench")
    if let r = runs, !(1...101).contains(r) { throw UsageError("--runs must be 1...101") }
    for o in only where !BenchRunner.sections.contains(o) {
      throw UsageError("--only \(o): not one of \(BenchRunner.sections.joined(separator: ", "))")
    }
  }

  func run() {
    let bench = BenchRunner(
      runs: runs ?? (quick ? 3 : 9), quick: quick, actorExecutable: RunOptions.actorExecutablePath(),
      onInterrupt: { sig in fail(Exit.signaled(sig), "bench interrupted by signal \(sig); everything it started was killed") })
    bench.only = Set(only)
    bench.runAll()
    emit(format == .json ? bench.json.pretty + "\n" : bench.text)
  }
}
