import MiniJSON
import SystemCore
import Testing

/// Every fault of the catalog on every backend it applies to: the outcome is
/// a hang, the chain starts at the root, and the class is the catalog's. The
/// classifier never sees which fault was set; these tests are what holds it
/// to naming each from evidence.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FaultTests {
  static let cases: [(String, String, String)] = {
    let all = ["spawn", "fork", "forkserver"]
    var c: [(String, String, String)] = []
    for (fault, cls) in [
      ("ignore-cancel", "uncancellable-task"),
      ("unbounded-peer-wait", "unbounded-teardown-wait"),
      ("shielded-parent-loop", "parent-channel-not-cancelled"),
      ("blocking-child-wait", "uncancellable-child-wait"),
      ("stdio-pipe", "blocked-on-full-pipe"),
      ("lost-cancel", "cancel-not-delivered"),
      ("never-exit", "exit-not-reached"),
      ("boot-death", "died-during-boot"),
      ("eof-spin", "busy-loop"),
    ] {
      for b in all { c.append((fault, b, cls)) }
    }
    c.append(("inherit-fds", "fork", "leaked-fd-holds-peer-open"))
    c.append(("fork-with-threads", "fork", "fork-from-multithreaded-parent"))
    c.append(("forkserver-serial", "forkserver", "forkserver-stall"))
    return c
  }()

  @Test(arguments: cases)
  func faultIsDiagnosedAsItsClass(fault: String, backend: String, hangClass: String) throws {
    let (r, v) = try ToolProcess.verdict([
      "nested-multierrors", "--depth", "1", "--backend", backend, "--fault", fault, "--timeout", "6", "--no-stacks",
      "--format", "json", "--run-dir", ToolProcess.runDir("fault-\(fault)-\(backend)"),
    ])
    #expect(r.status == 1, "\(fault) under \(backend)")
    #expect(["hang", "leak"].contains(v["outcome"]?.string ?? ""))
    #expect(v["hangClass"]?.string == hangClass, "\(fault) under \(backend): \(v["terminal"]?.compact ?? "")")
    #expect((v["stuck"]?.array?.count ?? 0) >= 1)
    let chain = try #require(v["waitChains"]?.array?.first)
    #expect(v.chainNames(chain).first == "root", "chain \(v.chainNames(chain))")
    let t = try #require(v["terminal"]?.array?.first)
    #expect((t["explanation"]?.string ?? "").isEmpty == false)
    #expect((t["hint"]?.string ?? "").isEmpty == false)
    #expect((t["evidence"]?.array ?? []).isEmpty == false)
  }

  @Test func cleanRunsCarryNoClass() throws {
    let r = ToolProcess.run(["nested-multierrors", "--depth", "1", "--format", "json", "--run-dir", ToolProcess.runDir("noclass")])
    let v = try #require(r.json)
    #expect(v["outcome"]?.string == "clean")
    #expect(v["hangClass"] == .null)
    #expect(v["terminal"]?.array?.isEmpty == true)
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test func faultsListsTheCatalog() {
    let r = ToolProcess.run(["faults"])
    #expect(r.status == 0)
    for name in ["ignore-cancel", "stdio-pipe", "forkserver-serial", "blocked-on-full-pipe", "forkserver-stall"] {
      #expect(r.stdout.contains(name))
    }
    #expect(r.stdout.split(separator: "\n").count == 12)
  }

  @Test func faultOnANamedActorAndUnknownActor() throws {
    let (r, v) = try ToolProcess.verdict([
      "run", ToolProcess.fixtures + "/scenarios/all-return.json", "--fault", "never-exit@y1", "--timeout", "6", "--no-stacks",
      "--format", "json", "--run-dir", ToolProcess.runDir("at"),
    ])
    #expect(r.status == 1)
    #expect(v["hangClass"]?.string == "exit-not-reached")
    #expect(v.chainNames(try #require(v["waitChains"]?.array?.first)) == ["root", "y", "y1"])
    let bad = ToolProcess.run(["run", ToolProcess.fixtures + "/scenarios/all-return.json", "--fault", "never-exit@nobody"])
    #expect(bad.status == 64)
    #expect(bad.stderr.contains("no actor named 'nobody'"))
  }
}

/// Fault names in a scenario file are checked: a name the catalog does not
/// list (or one that was only ever internal) is bad input, not a fault
/// silently not injected.
@Suite(.timeLimit(.minutes(5))) struct ScenarioFaultNameTests {
  @Test(arguments: [("x", "$.root.children[0].faults[1]"), ("no-hard-kill", "$.root.children[0].faults[1]")])
  func unknownOrInternalFaultNameExits65WithItsPath(name: String, path: String) throws {
    let dir = ToolProcess.runDir("badfault")
    let file = dir + "/scenario.json"
    try Syscalls.writeFile(
      file, "{\"root\": {\"name\": \"root\", \"children\": [{\"name\": \"a\", \"faults\": [\"never-exit\", \"\(name)\"]}]}}\n")
    let r = ToolProcess.run(["run", file, "--timeout", "6", "--run-dir", dir + "/run"])
    #expect(r.status == 65)
    #expect(r.stderr.contains("\(path): unknown fault '\(name)'"), "\(r.stderr)")
    #expect(r.stderr.split(separator: "\n").count == 1)
  }

  @Test func unknownFaultOptionStaysAUsageError() {
    let r = ToolProcess.run(["run", ToolProcess.fixtures + "/scenarios/all-return.json", "--fault", "no-hard-kill"])
    #expect(r.status == 64)
    #expect(r.stderr.contains("unknown fault 'no-hard-kill'"))
  }
}
