import MiniJSON
import SystemCore
import Testing

/// Real trees of real processes, through the real CLI. Serialized: each test
/// starts a process tree, and the machine has two cores.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct EndToEndTests {
  @Test(arguments: [0, 1, 2])
  func nestedMultierrorsIsCleanUnderSpawn(depth: Int) throws {
    let (r, v) = try ToolProcess.verdict(["nested-multierrors", "--depth", "\(depth)", "--format", "json", "--run-dir", ToolProcess.runDir("nm\(depth)")])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(v["outcome"]?.string == "clean")
    let actors = v["actors"]?.array ?? []
    // The full tree, unless a spawner was (legally) cancelled before it
    // spawned its children; every actor listed has a parent that spawned it.
    #expect(actors.count <= (1 << (depth + 3)) - 1)
    #expect(actors.count >= 1 + 2 + 2)
    #expect(actors.filter { $0["parentPid"] == .null }.count == 1, "one root")
    #expect(actors.allSatisfy { $0["reachedExit"]?.bool == true })
    #expect(v["stuck"]?.array?.isEmpty == true)
    // The root raised a MultiError of `breadth` remote errors (or Cancelled).
    let e = try #require(v["error"])
    #expect(e["type"]?.string == "MultiError")
    let kids = e["children"]?.array ?? []
    #expect(kids.count == 2)
    #expect(kids.allSatisfy { ["RemoteActorError", "Cancelled"].contains($0["type"]?.string ?? "") })
    #expect(kids.contains { $0["type"]?.string == "RemoteActorError" })
    // Every leaf error that reached the root is the errorer's own AssertionError.
    func leaves(_ j: JSONValue) -> [JSONValue] {
      let c = j["children"]?.array ?? []
      return c.isEmpty ? [j] : c.flatMap(leaves)
    }
    #expect(leaves(e).allSatisfy { ["AssertionError", "Cancelled"].contains($0["boxedType"]?.string ?? $0["type"]?.string ?? "") })
  }

  @Test(arguments: ["spawn", "fork", "forkserver"])
  func ignoreCancelIsAHangEndingAtTheStubbornActor(backend: String) throws {
    let (r, v) = try ToolProcess.verdict([
      "run", ToolProcess.fixtures + "/scenarios/ignore-cancel.json", "--backend", backend, "--format", "json",
      "--run-dir", ToolProcess.runDir("ic-\(backend)"),
    ])
    #expect(r.status == 1)
    #expect(v["outcome"]?.string == "hang")
    let chain = try #require(v["waitChains"]?.array?.first)
    #expect(v.chainNames(chain) == ["root", "supervisor", "stubborn"])
    #expect(v["hangClass"]?.string == "uncancellable-task")
    let stuckNames = (v["stuck"]?.array ?? []).map { v.chainNames(.array([$0])).first ?? "?" }
    #expect(stuckNames.contains("stubborn"))
  }

  @Test func hangPastTheDeadlineCarriesKernelEvidenceAndIsKilled() throws {
    let dir = ToolProcess.runDir("deadline")
    let (_, v) = try ToolProcess.verdict([
      "run", ToolProcess.fixtures + "/scenarios/ignore-cancel.json", "--timeout", "1", "--format", "json", "--run-dir", dir,
    ])
    #expect(v["outcome"]?.string == "hang")
    #expect((v["stuck"]?.array?.count ?? 0) >= 1)
    let blocked = v["blockedOn"]?.array ?? []
    #expect(blocked.contains { ($0["kernel"]?.string ?? "").contains("epoll_wait") })
    #expect(v["survivors"]?.array?.isEmpty == true)
    // `report` re-derives the same verdict offline.
    let again = ToolProcess.run(["report", dir, "--format", "json"])
    let w = try #require(again.json)
    #expect(again.status == 1)
    #expect(w["waitChains"] == v["waitChains"])
    #expect(w["hangClass"] == v["hangClass"])
    #expect(w["stuck"] == v["stuck"])
  }

  @Test func crashingLeafIsExpectedAndReportedAsActorDied() throws {
    let (r, v) = try ToolProcess.verdict([
      "run", ToolProcess.fixtures + "/scenarios/crash-leaf.json", "--format", "json", "--run-dir", ToolProcess.runDir("crash"),
    ])
    #expect(r.status == 0, "\(r.stdout)")
    #expect(v["outcome"]?.string == "clean")
    let actors = v["actors"]?.array ?? []
    let crasher = try #require(actors.first { $0["name"]?.string == "crasher" })
    #expect(crasher["reachedExit"]?.bool == false)
    #expect(crasher["exitStatus"]?.int == 7)
    let e = try #require(v["error"])
    func all(_ j: JSONValue) -> [JSONValue] { [j] + (j["children"]?.array ?? []).flatMap(all) }
    #expect(all(e).contains { $0["type"]?.string == "ActorDied" && $0["actor"]?.string == "crasher" })
  }

  @Test(arguments: [
    (["nested-multierrors", "--backend", "threads"], "unknown backend"),
    (["nested-multierrors", "--depth", "9"], "--depth"),
    (["nested-multierrors", "--timeout", "-1"], "--timeout"),
    (["nested-multierrors", "--fault", "no-such-fault"], "unknown fault"),
    (["frobnicate"], "unknown command"),
  ])
  func badFlagsAreUsageErrors(args: [String], message: String) {
    let r = ToolProcess.run(args)
    #expect(r.status == 64, "\(r.stderr)")
    #expect(r.stderr.contains(message), "\(r.stderr)")
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test(arguments: [
    ("{\"root\": {\"name\": \"r\", \"children\": [{\"name\": \"a\", \"behavior\": {\"kind\": \"explode\"}}]}}", "$.root.children[0].behavior.kind"),
    ("{\"root\": {\"name\": \"r\", \"children\": [{\"name\": 3}]}}", "$.root.children[0].name"),
    ("{\"root\": [1,2]}", "$.root"),
    ("{\"root\": {\"name\": \"r\", \"children\": [{\"name\": \"a\", \"behavior\": {\"kind\": \"sleep\", \"ms\": \"soon\"}}]}}", "$.root.children[0].behavior.ms"),
    ("{\"root\": {\"name\": \"r\"", "$"),
    ("", "$"),
  ])
  func malformedScenarioIsExit65NamingThePath(text: String, path: String) throws {
    let file = ToolProcess.runDir("bad") + "/bad.json"
    try Syscalls.writeFile(file, text)
    let r = ToolProcess.run(["run", file])
    #expect(r.status == 65, "\(r.stderr)")
    #expect(r.stderr.contains(path), "\(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1)
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test func reportOnATruncatedLogStillGivesTheVerdict() throws {
    let dir = ToolProcess.runDir("trunc")
    let first = ToolProcess.run(["nested-multierrors", "--depth", "0", "--format", "json", "--run-dir", dir])
    #expect(first.status == 0)
    // Tear the last line of one actor's log (its EXIT), as a SIGKILL in the
    // middle of that write would.
    let logs = Syscalls.listDirectory(dir + "/probes").filter { $0.hasSuffix(".jsonl") }.sorted()
    let withExit = logs.compactMap { name -> (String, [UInt8])? in
      guard let b = Syscalls.readFile(dir + "/probes/" + name),
        String(decoding: b, as: UTF8.self).hasSuffix("\"ev\":\"EXIT\",\"detail\":\"rc=0\"}\n")
      else { return nil }
      return (name, b)
    }
    let (victim, bytes) = try #require(withExit.first)
    let victimPid = try #require(Int64(victim.dropLast(6)))
    try Syscalls.writeFile(dir + "/probes/" + victim, String(decoding: bytes.dropLast(25), as: UTF8.self))
    let r = ToolProcess.run(["report", dir, "--format", "json"])
    let v = try #require(r.json, "\(r.stderr)")
    #expect(v["damagedProbeLines"]?.int == 1)
    #expect((v["actors"]?.array?.count ?? 0) == 7)
    // That actor did not provably reach EXIT: the verdict says so, exit 3.
    #expect(r.status == 3)
    #expect(v["outcome"]?.string == "unexpected")
    let torn = try #require(v["actors"]?.array?.first { $0["pid"]?.int == victimPid })
    #expect(torn["reachedExit"]?.bool == false)
    let named = (v["unexpected"]?.array ?? []).contains { ($0.string ?? "").contains("pid \(victimPid)") }
    #expect(named)
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test func reportOnGarbageIsExit65() throws {
    let dir = ToolProcess.runDir("garbage")
    try Syscalls.makeDirectories(dir + "/probes")
    try Syscalls.writeFile(dir + "/run.json", "{\"scenario\": \"x\", \"root\": {\"name\": \"root\"}}")
    try Syscalls.writeFile(dir + "/probes/1.jsonl", "\u{01}\u{02}not json at all\n{\"t\":")
    let r = ToolProcess.run(["report", dir])
    #expect(r.status == 65)
    #expect(r.stderr.contains("too damaged"), "\(r.stderr)")
    let none = ToolProcess.run(["report", "/nonexistent/run"])
    #expect(none.status == 65)
    #expect(none.stderr.contains("not a run directory"))
  }

  @Test func helpTextListsTheCommandsAndExitCodes() {
    let r = ToolProcess.run(["--help"])
    #expect(r.status == 0)
    for word in ["nested-multierrors", "run", "report", "Exit codes", "64 usage error"] {
      #expect(r.stdout.contains(word), "missing \(word) in --help")
    }
    #expect(!r.stdout.contains("_actor"))
    // Each command's own help, two ways; help is stdout and exit 0.
    for args in [["help", "snapshot"], ["snapshot", "--help"]] {
      let h = ToolProcess.run(args)
      #expect(h.status == 0 && h.stderr.isEmpty, "\(args): \(h.stderr)")
      #expect(h.stdout.contains("USAGE: tractor-diag snapshot") && h.stdout.contains("--max-frames <max-frames>"), "\(h.stdout)")
    }
  }
}
