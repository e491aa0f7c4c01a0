import ActorRuntime
import ArgumentParser
import Diagnosis
import Glibc
import Reports
import SystemCore

struct Compare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the same tree under several backends and show where they diverge.",
    discussion: "Exit 0 when every backend and trial is clean, 1 when any hangs or leaks, 3 otherwise.")

  @Option(help: "Comma-separated backends; the first is the reference.")
  var backends: String = "spawn,fork,forkserver"

  @Option(help: "Runs per backend (1-50).")
  var trials: Int = 3

  @Option(help: "A scenario file to compare instead of nested-multierrors.")
  var scenario: String?

  @Option(help: "nested-multierrors depth (0-5).")
  var depth: Int = 1

  @Option(help: "nested-multierrors breadth (1-4).")
  var breadth: Int = 2

  @Option(help: "Milliseconds each errorer sleeps before it raises.")
  var delayMs: Int = 0

  @Option(help: "Seconds per run before it counts as hung.")
  var timeout: Double = 10

  @Option(help: "Where the runs go (default: tractor-diag-runs/compare-ID).")
  var runDir: String?

  @Option(help: "Output format: text or json.")
  var format: OutputFormat = .text

  @Option(name: .customLong("fault"), help: ArgumentHelp("Inject a fault in every run (repeatable).", valueName: "NAME[@ACTOR]"))
  var faults: [String] = []

  @Flag(help: "Skip native stacks in hang evidence.")
  var noStacks = false

  var backendList: [String] { backends.split(separator: ",").map { String($0).trimmingSpaces() } }

  func validate() throws {
    let list = backendList
    guard !list.isEmpty else { throw ValidationError("--backends is empty") }
    try TreeOptions.validate(backends: list, timeout: timeout, faults: faults)
    guard Set(list).count == list.count else { throw ValidationError("--backends lists a backend twice") }
    guard (1...50).contains(trials) else { throw ValidationError("--trials must be 1...50") }
    guard (0...5).contains(depth) else { throw ValidationError("--depth must be 0...5") }
    guard (1...4).contains(breadth) else { throw ValidationError("--breadth must be 1...4") }
  }

  func run() throws {
    var s: Scenario
    if let file = scenario {
      guard let bytes = Syscalls.readFile(file, limit: 4 << 20), let text = String(validating: bytes, as: UTF8.self) else {
        fail(Exit.badInput, "cannot read scenario file \(file)")
      }
      do { s = try ScenarioParser.parse(text: text) } catch { fail(Exit.badInput, "\(file): \(error)") }
    } else {
      s = Scenario.nestedMultierrors(depth: depth, breadth: breadth, delayMs: delayMs)
    }
    do { try FaultCatalog.apply(faults, to: &s) } catch { fail(Exit.usage, "\(error)") }
    let base = runDir ?? "tractor-diag-runs/compare-\(getpid())-\(Syscalls.monotonicNs() % 1_000_000)"
    let exe = TreeOptions.actorExecutable()
    let progress = isatty(2) != 0
    var results: [BackendTrials] = []
    let list = backendList
    for b in list {
      var verdicts: [Verdict] = []
      for t in 1...trials {
        if progress {
          let line = "\r\u{1b}[Kcompare: \(b) trial \(t)/\(trials)"
          _ = line.withCString { write(2, $0, strlen($0)) }
        }
        let cfg = RunConfig(
          scenario: s, backend: b, runDir: "\(base)/\(b)-\(t)", timeoutMs: Int(timeout * 1000), bounds: s.bounds,
          actorExecutable: exe)
        verdicts.append(DiagnosedRun.run(cfg, stacks: !noStacks))
      }
      let seq = BackendComparison.sequences(runDir: verdicts[0].runDir, actors: verdicts[0].actors)
      results.append(BackendTrials(backend: b, verdicts: verdicts, sequences: seq))
    }
    if progress { _ = "\r\u{1b}[K".withCString { write(2, $0, strlen($0)) } }
    emit(format == .json ? BackendComparison.json(results).pretty + "\n" : CompareText.render(results, scenario: s.name))
    let all = results.flatMap(\.verdicts)
    if all.contains(where: { $0.outcome == "hang" || $0.outcome == "leak" }) { Glibc.exit(Exit.hangOrLeak) }
    Glibc.exit(all.allSatisfy { $0.outcome == "clean" } ? Exit.clean : Exit.unexpected)
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
