import Glibc
import MiniJSON
import Testing

/// `watch` over real Python trees in the project's venv (`make venv`:
/// Debian python 3.11, trio 0.22.2, tractor 0.1.0a5): the graph the verdict
/// shows (one chain rooted at the command, bystanders folded, no cycle
/// where a child only listens to a parent that waits for its exit) and the
/// classes of mutual waits and of a stalled fork server. A missing venv
/// fails these tests: they are what holds the tool to real trees.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RealTreeGraphTests {
  static let python: String = {
    var parts = ToolProcess.fixtures.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast()
    return parts.joined(separator: "/") + "/.venv/bin/python"
  }()

  /// `watch --timeout S --format json -- .venv/bin/python -W ignore Fixtures/python/SCRIPT ARGS...`
  static func watch(_ script: String, _ args: [String] = [], timeout: Int) throws -> JSONValue {
    try #require(access(python, X_OK) == 0, "no \(python): run `make venv`")
    let (r, v) = try ToolProcess.verdict(
      ["watch", "--timeout", "\(timeout)", "--no-stacks", "--format", "json", "--", python, "-W", "ignore",
       ToolProcess.fixtures + "/python/" + script] + args,
      timeoutSeconds: timeout + 60)
    // A hang: the command outlived the deadline (coreutils timeout's 124).
    #expect(r.status == 124)
    #expect(v["outcome"]?.string == "hang")
    return v
  }

  static func pids(_ v: JSONValue?) -> [Int64] { (v?.array ?? []).compactMap(\.int) }
  static func command(_ v: JSONValue) -> Int64? { v["actors"]?.array?.first { $0["role"]?.string == "command" }?["pid"]?.int }

  /// tractor under its trio backend: root -> stubborn, one chain, no cycle
  /// (stubborn's read of its channel to the root is its cancel listener:
  /// the root waits for its exit through a pidfd).
  @Test func tractorTeardownUnderTrioIsOneChainRootToStubborn() throws {
    let v = try Self.watch("tractor_teardown_hang.py", ["--start-method", "trio"], timeout: 20)
    let root = try #require(Self.command(v))
    let chains = (v["waitChains"]?.array ?? []).map(Self.pids)
    #expect(chains.count == 1, "\(chains)")
    let chain = try #require(chains.first)
    #expect(chain.count == 2 && chain.first == root, "\(chain)")
    let stubborn = try #require(chain.last)
    #expect(v["actors"]?.array?.first { $0["pid"]?.int == stubborn }?["parentPid"]?.int == root)
    #expect(v["cycles"]?.array?.isEmpty == true)
    #expect(Self.pids(v["outsideChains"]).isEmpty)
    #expect((v["terminal"]?.array ?? []).compactMap { $0["pid"]?.int } == [stubborn])
  }

  /// multiprocessing spawn chain: one chain root -> child -> leaf; the
  /// resource tracker is a bystander, not the head of every chain.
  @Test func spawnChainIsOneChainWithTheTrackerFolded() throws {
    let v = try Self.watch("mp_spawn_chain.py", timeout: 6)
    let root = try #require(Self.command(v))
    let chains = (v["waitChains"]?.array ?? []).map(Self.pids)
    #expect(chains.count == 1 && chains.first?.count == 3 && chains.first?.first == root, "\(chains)")
    let bystanders = v["bystanders"]?.array ?? []
    #expect(bystanders.count == 1, "\(bystanders)")
    #expect(!(chains.first ?? []).contains(bystanders.first?["pid"]?.int ?? -1))
    #expect(Self.pids(v["outsideChains"]).isEmpty)
  }

  /// The stdlib fork server stuck on a client that never sends.
  @Test func forkServerStallIsNamed() throws {
    let v = try Self.watch("mp_forkserver_stall.py", timeout: 8)
    #expect(v["hangClass"]?.string == "forkserver-stall", "\(v["terminal"]?.compact ?? "")")
    let chains = (v["waitChains"]?.array ?? []).map(Self.pids)
    #expect(chains.count == 1 && chains.first?.count == 3, "\(chains)")
    let t = try #require(v["terminal"]?.array?.first)
    #expect(t["pid"]?.int == chains.first?.last)
    #expect((t["evidence"]?.array ?? []).contains { ($0.string ?? "").hasPrefix("consequence: zombie ") })
    #expect(Self.pids(v["outsideChains"]).isEmpty, "the zombie and the tracker are not outside any chain")
  }

  /// One socketpair, each side reads first.
  @Test func mutualSocketpairIsAMutualChannelWait() throws {
    let v = try Self.watch("mutual_socketpair.py", timeout: 3)
    #expect(v["hangClass"]?.string == "mutual-channel-wait", "\(v["terminal"]?.compact ?? "")")
    #expect((v["cycles"]?.array ?? []).count == 1)
    #expect(Self.pids(v["outsideChains"]).isEmpty)
  }
}
