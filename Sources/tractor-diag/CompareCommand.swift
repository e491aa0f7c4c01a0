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

  @OptionGroup var shape: TreeShape

  @OptionGroup var options: RunOptions

  var backendList: [String] { backends.split(separator: ",").map { String($0).trimmingSpaces() } }

  func validate() throws {
    let list = backendList
    guard !list.isEmpty else { throw ValidationError("--backends is empty") }
    try RunOptions.validate(backends: list)
    try options.format.check([.text, .json], command: "compare")
    guard Set(list).count == list.count else { throw ValidationError("--backends lists a backend twice") }
    guard (1...50).contains(trials) else { throw ValidationError("--trials must be 1...50") }
  }

  func run() throws {
    let s = options.withFaults(scenario.map(loadScenario) ?? shape.scenario)
    let base = options.runDirectory(prefix: "compare-")
    let progress = isatty(2) != 0
    var results: [BackendTrials] = []
    let list = backendList
    var interrupted = false
    backends: for b in list {
      var verdicts: [Verdict] = []
      var cut: Verdict? = nil
      for t in 1...trials {
        if progress {
          let line = "\r\u{1b}[Kcompare: \(b) trial \(t)/\(trials)"
          Syscalls.write(line, to: 2)
        }
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
    if progress { Syscalls.write("\r\u{1b}[K", to: 2) }
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
