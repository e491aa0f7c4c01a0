import Glibc
import MiniJSON
import Testing
import TestSupport

/// `watch` over the real trees of Fixtures/python under the project's venv
/// (`make deps`): event loops that wait on their own wake-up channels are
/// in-process waits, never leaks; a spinner is busy-loop even on a loaded
/// machine (progress sampling). A missing venv fails these tests.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RealTreeEvidenceTests {
  static let python: String = {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/.venv/bin/python"
  }()

  func watch(_ script: String, timeout: Int) throws -> JSONValue {
    try #require(access(Self.python, X_OK) == 0, "no \(Self.python): run `make deps`")
    let (r, v) = try ToolProcess.verdict([
      "watch", "--timeout", "\(timeout)", "--format", "json", "--", Self.python, "-W", "ignore",
      ToolProcess.fixtures + "/python/" + script,
    ])
    #expect(r.status == 124, "\(script): \(r.stderr)")  // watch: the command outlived the deadline
    #expect(v["outcome"]?.string == "hang")
    return v
  }

  /// The idle asyncio/trio trees: the terminal waits in epoll_wait on its
  /// own wake-up socketpairs, nothing else; no leaked-fd anywhere.
  @Test(arguments: [("asyncio_event.py", 4, 2), ("trio_idle.py", 5, 1), ("trio_tree.py", 6, 2)])
  func eventLoopWaitingOnItselfIsInProcessWait(script: String, timeout: Int, processes: Int) throws {
    let v = try watch(script, timeout: timeout)
    #expect(v["hangClass"]?.string == "in-process-wait", "\(script): \(v["terminal"]?.compact ?? "")")
    let terminals = v["terminal"]?.array ?? []
    #expect(!terminals.contains { $0["class"]?.string == "leaked-fd-holds-peer-open" }, "\(script)")
    let evidence = (terminals.first?["evidence"]?.array ?? []).compactMap(\.string)
    #expect(evidence.contains { $0.contains("its own wake-up channel") }, "\(script): \(evidence)")
    #expect(!evidence.contains { $0.contains("held outside set") }, "\(script): \(evidence)")
    if processes > 1 { #expect(v["waitChains"]?.array?.first?.array?.count == processes, "\(script)") }
  }

  /// busy_loop.py's child spins on EOF: busy-loop from several samples, not
  /// "unexplained" when a loaded machine gives it little CPU.
  @Test func spinnerIsBusyLoop() throws {
    let v = try watch("busy_loop.py", timeout: 3)
    #expect(v["hangClass"]?.string == "busy-loop", "\(v["terminal"]?.compact ?? "")")
  }
}
