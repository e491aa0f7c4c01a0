import Glibc
import MiniJSON
import Testing

/// Real tractor trees (tractor 0.1.0a5 on trio 0.22.2, the project's venv)
/// under `watch`, under tractor's `trio` and `spawn` start methods: the
/// nested multierrors test as a program finishes clean (its subactors may
/// linger within the grace, never a leak), and a teardown hang of our own
/// making is one chain from the root actor to the stuck actor, named, with
/// an honest class. A missing venv fails these tests.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct TractorTreeTests {
  static var python: String { RealTreeGraphTests.python }

  static func watch(_ args: [String], timeout: Int, grace: Int = 5) throws -> (ToolRun, JSONValue) {
    try #require(access(python, X_OK) == 0, "no \(python): run `make venv`")
    return try ToolProcess.verdict(
      ["watch", "--timeout", "\(timeout)", "--grace", "\(grace)", "--no-stacks", "--format", "json", "--", python, "-W",
       "ignore"] + args,
      timeoutSeconds: timeout + 60)
  }

  /// tractor's `test_nested_multierrors` shape at depth 1 (15 actors): the
  /// program checks the error tree and exits 0; watch says clean and exits 0.
  /// The deadline is only a bound: the verdict comes when the command exits.
  @Test(arguments: ["trio", "spawn"])
  func nestedMultierrorsIsClean(startMethod: String) throws {
    let (r, v) = try Self.watch(
      [ToolProcess.fixtures + "/python/tractor_nested.py", "--start-method", startMethod], timeout: 200)
    #expect(r.status == 0, "\(r.stderr.suffix(600))")
    #expect(v["outcome"]?.string == "clean", "\(v["terminal"]?.compact ?? "")")
    #expect(v["exitCode"]?.int == 0)
    // Whatever outlived the command ended within the grace: reported as
    // lingering (possibly none), never left alive.
    #expect((v["survivors"]?.array ?? []).isEmpty)
  }

  /// The teardown hang under `spawn`: the root waits for stubborn's exit
  /// through multiprocessing's sentinel pipe, stubborn listens on its
  /// channel to the root (its cancel listener, not a wait back up); the
  /// resource tracker is a bystander. One chain root -> stubborn, no cycle,
  /// and stubborn's class says it waits on itself (or, from its task tree,
  /// that a shielded task ignores its cancel).
  @Test func teardownHangUnderSpawnIsOneChainToTheStuckActor() throws {
    let (r, v) = try Self.watch(
      [ToolProcess.fixtures + "/python/tractor_teardown_hang.py", "--start-method", "spawn"], timeout: 25, grace: 1)
    #expect(r.status == 124)
    #expect(v["outcome"]?.string == "hang")
    let actors = v["actors"]?.array ?? []
    let root = try #require(actors.first { $0["role"]?.string == "command" }?["pid"]?.int)
    let chains = (v["waitChains"]?.array ?? []).map { ($0.array ?? []).compactMap(\.int) }
    #expect(chains.count == 1, "\(chains)")
    let chain = try #require(chains.first)
    #expect(chain.count == 2 && chain.first == root, "\(chain)")
    let stubborn = try #require(chain.last)
    #expect(actors.first { $0["pid"]?.int == stubborn }?["role"]?.string == "spawn-child")
    #expect(v["cycles"]?.array?.isEmpty == true)
    #expect((v["bystanders"]?.array ?? []).count == 1, "the resource tracker")
    let t = try #require(v["terminal"]?.array?.first)
    #expect(t["pid"]?.int == stubborn)
    #expect(["in-process-wait", "uncancellable-task"].contains(t["class"]?.string ?? ""), "\(t.compact)")
  }
}
