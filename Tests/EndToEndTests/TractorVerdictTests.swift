import Glibc
import MiniJSON
import Testing

/// A real tractor tree stuck in teardown under `watch`: the verdict names the
/// stuck actor's trio task from its Python task tree (read from outside).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct TractorVerdictTests {
  static let venvPython = ToolProcess.fixtures + "/../.venv/bin/python"
  static var venvPresent: Bool { access(venvPython, X_OK) == 0 }

  /// tractor_teardown_hang.py: actor `stubborn` sleeps forever in a shielded scope;
  /// its cancel request is never answered and the root waits for its exit.
  @Test func shieldedTaskAfterCancelIsUncancellableTask() throws {
    try #require(Self.venvPresent, "no \(Self.venvPython): run `make deps`")
    // The watch deadline bounds the run; tractor boots the actor in ~1-2 s idle,
    // far more on a loaded 2-core machine (the test fails loudly if it was not ready).
    let (r, v) = try ToolProcess.verdict(
      [
        "watch", "--timeout", "20", "--format", "json", "--", Self.venvPython, "-W", "ignore",
        ToolProcess.fixtures + "/python/tractor_teardown_hang.py", "--start-method", "trio",
      ], timeoutSeconds: 90)
    // The command's stdout goes to stderr under --format json: the fixture says
    // "ready" once the shielded task runs. Without it the tree never reached the hang.
    try #require(r.stderr.split(separator: "\n").contains("ready"), "the fixture never got ready: \(r.stderr.suffix(2000))")
    #expect(r.status == 124)  // watch: the command outlived the deadline
    #expect(v["outcome"]?.string == "hang")
    // The stubborn actor is the terminal whose Python view holds keep_waiting (the
    // root waits for its exit and is a terminal of its own in the wait cycle).
    let stubborn = try #require(
      (v["blockedOn"]?.array ?? []).first { ($0["python"]?.compact ?? "").contains("keep_waiting") }?["pid"],
      "no blocked-on entry shows keep_waiting: \(v["blockedOn"]?.compact ?? "")")
    let terminal = try #require(v["terminal"]?.array?.first { $0["pid"] == stubborn }, "\(v["terminal"]?.compact ?? "")")
    #expect(terminal["class"]?.string == "uncancellable-task", "\(terminal.compact)")
    // The root waits for the exit of stubborn (pidfd): the verdict's class is the same cause.
    #expect(v["hangClass"]?.string == "uncancellable-task", "\(v["terminal"]?.compact ?? "")")
    let evidence = (terminal["evidence"]?.array ?? []).compactMap(\.string)
    #expect(evidence.contains { $0.contains("[shielded, cancel called]") && $0.contains("keep_waiting") }, "\(evidence)")
    // The stubborn actor's blocked-on entry shows the task, shielded, and its frame.
    let blocked = (v["blockedOn"]?.array ?? []).first { $0["pid"] == terminal["pid"] }
    let tasks = blocked?["python"]?["tasks"]?.array ?? []
    let stuck = try #require(tasks.first { t in
      (t["frames"]?.array ?? []).contains { $0["function"]?.string == "keep_waiting" }
    }, "no task in keep_waiting: \(blocked?.compact ?? "no blockedOn entry")")
    #expect(stuck["shielded"]?.bool == true)
    #expect(stuck["cancelCalled"]?.bool == true)
    #expect(v["survivors"]?.array?.isEmpty == true)
  }
}
