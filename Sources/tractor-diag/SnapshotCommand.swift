import CommandLineOptions
import Diagnosis
import Glibc
import KernelEvidence
import NativeStacks
import PythonStacks
import Reports
import SystemCore

/// Output formats of `snapshot` (it also speaks Graphviz).
enum SnapshotFormat: String, CaseIterable, Sendable {
  case text, json, dot
}

struct Snapshot: CLICommand {
  static var name: String { "snapshot" }
  static let spec = CommandSpec(
    name: name,
    abstract: "Show what processes are blocked on and who waits for whom (any process tree).",
    discussion: """
      For each PID (with --tree, all its descendants too): state, threads, each thread's syscall decoded with its arguments, wchan, the fds it waits on resolved to the processes holding their other end (unix sockets via sock_diag, pipes, pidfds, epoll sets, a poll() caller's fd array), the wait-for edges between processes, chains, cycles and terminals. Native stacks of every thread (ptrace, always detached) unless --no-stacks; without ptrace permission a note and /proc-only evidence. Python frames of every CPython 3.11-3.13 thread (names, qualified names, file:line), trio's task tree (await chains, nursery tree, shielded scopes, cancel called) and asyncio's pending tasks, read with process_vm_readv without stopping anyone, unless --no-python. Dot output has no stacks.

      Exit codes: 0 snapshot printed; 64 usage error (a PID that is not a positive integer); 65 none of the PIDs exists (if only some are missing, the others are shown with a note).
      """,
    options: [
      .flag("tree", help: "Include every descendant of each PID."),
      OptionSpec("format", .value, help: "Output format: text, json or dot.", default: "text"),
      .flag("no-stacks", help: "Skip native stacks (no ptrace at all)."),
      .flag("no-python", help: "Skip Python frames and trio tasks (read with process_vm_readv, no stop)."),
      .flag("symbolize", help: "Name frames with llvm-symbolizer too (DWARF names, file:line; slower)."),
      OptionSpec("max-frames", .value, help: "Frames per thread (1-256).", default: "48"),
    ],
    positionals: .many(name: "PID", help: "Process ids to snapshot."))

  var pids: [String]
  var tree: Bool
  var format: SnapshotFormat
  var noStacks: Bool
  var noPython: Bool
  var symbolize: Bool
  var maxFrames: Int

  init(_ a: ParsedArguments) throws(UsageError) {
    pids = a.positionals
    tree = a.flag("tree")
    format = try a.choice("format", default: SnapshotFormat.text)
    noStacks = a.flag("no-stacks")
    noPython = a.flag("no-python")
    symbolize = a.flag("symbolize")
    maxFrames = try a.int("max-frames", default: 48)
  }

  func validate() throws(UsageError) {
    if pids.isEmpty { throw UsageError("snapshot: give at least one PID") }
    for p in pids {
      guard let v = Int32(p), v > 0 else { throw UsageError("snapshot: not a process id (a positive integer): '\(p)'") }
    }
    guard (1...256).contains(maxFrames) else { throw UsageError("snapshot: --max-frames must be 1...256") }
  }

  func run() {
    var requested: [Int32] = []
    for p in pids.compactMap({ Int32($0) }) where p > 0 && !requested.contains(p) { requested.append(p) }
    let missing = requested.filter { !Syscalls.exists($0) }
    let live = requested.filter { !missing.contains($0) }
    if live.isEmpty {
      fail(Exit.badInput, "no such process: " + missing.map(String.init).joined(separator: ", "))
    }
    let notes: [String] = missing.map { "no such process: \($0) (skipped)" }
    // Dot output has no stacks: do not take them.
    let report = SnapshotReport.take(
      pids: live, tree: tree, python: !noPython && format != .dot, stacks: !noStacks && format != .dot,
      symbolizer: symbolize ? .llvmSymbolizer : .fast, maxFrames: maxFrames, notes: notes)
    if format == .dot {
      emit(report.dot)
      return
    }
    emit(format == .json ? report.json.pretty + "\n" : report.text)
  }
}
