import MiniJSON
import SystemCore
import Testing

/// The views through the real CLI: `report --format dot|perfetto`,
/// `--timeline`, the trace.json every run writes, and formats a command
/// does not speak (one line, exit 64).
@Suite(.serialized, .timeLimit(.minutes(1)))
struct ViewsCommandTests {
  static let runs: String = {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(2)
    return parts.joined(separator: "/") + "/DiagnosisTests/Runs"
  }()

  @Test func reportDrawsAStoredRunAsDot() {
    let r = ToolProcess.run(["report", Self.runs + "/clean-spawn", "--format", "dot"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("digraph verdict {") && r.stdout.hasSuffix("}\n"))
    // A hang run: its verdict's exit code, its terminal drawn bold.
    let h = ToolProcess.run(["report", Self.runs + "/fault-ignore-cancel", "--format", "dot"])
    #expect(h.status == 1)
    #expect(h.stdout.contains("p12179 [") && h.stdout.contains("style=\"filled,bold\""))
  }

  @Test func reportPrintsTheTraceAndTheTimeline() throws {
    let r = ToolProcess.run(["report", Self.runs + "/fault-ignore-cancel", "--format", "perfetto"])
    #expect(r.status == 1, "\(r.stderr)")
    let trace = try #require(r.json, "not JSON: \(r.stdout.prefix(200))")
    #expect((trace["traceEvents"]?.array?.count ?? 0) > 100)
    let t = ToolProcess.run(["report", Self.runs + "/fault-ignore-cancel", "--timeline"])
    #expect(t.stdout.contains("never reached EXIT"))
    let w = ToolProcess.run(["report", Self.runs + "/watch-rundir", "--timeline"])
    #expect(w.status == 124 && w.stdout.contains("end: hang, exit 124"), "\(w.stderr)")
  }

  @Test(arguments: [
    ["compare", "--format", "dot"], ["report", "/nonexistent", "--format", "yaml"],
    ["report", "/nonexistent", "--timeline", "--format", "json"], ["nested-multierrors", "--format", "perfetto"],
    ["watch", "--format", "perfetto", "--", "true"],
  ])
  func unsupportedFormatIsOneLineExit64(args: [String]) {
    let r = ToolProcess.run(args)
    #expect(r.status == 64)
    #expect(r.stderr.hasPrefix("tractor-diag: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    #expect(r.stdout.isEmpty)
  }

  @Test func everyRunWritesItsTrace() throws {
    let dir = ToolProcess.runDir("views-trace")
    let r = ToolProcess.run(["nested-multierrors", "--depth", "0", "--run-dir", dir, "--no-stacks", "--format", "dot"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.hasPrefix("digraph verdict {"))
    let bytes = try #require(Syscalls.readFile(dir + "/trace.json"), "no trace.json")
    let trace = try JSONParser.parse(bytes: bytes)
    // 7 actors and the supervisor, each named.
    let named = (trace["traceEvents"]?.array ?? []).filter { $0["name"]?.string == "process_name" }
    #expect(named.count == 8)
    #expect(ToolProcess.survivors().isEmpty)
  }
}
