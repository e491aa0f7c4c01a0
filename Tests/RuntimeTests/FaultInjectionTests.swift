import ActorRuntime
import FaultInjection
import MiniJSON
import SystemCore
import Testing

/// FaultInjection is the one place a fault name means something: each
/// catalog fault becomes runtime settings, and the runtime never reads a name.
@Suite(.timeLimit(.minutes(1))) struct FaultInjectionTests {
  /// What each fault must change, and nothing else: (actor settings,
  /// supervision by its parent, settings of its children, run settings).
  static func expected(_ f: Fault) -> (ActorSettings, ChildSupervision, ActorSettings, ChildSupervision, RunSettings) {
    var a = ActorSettings()
    var s = ChildSupervision()
    s.connectBackShielded = true  // any fault: its boot is not cut short
    var childA = ActorSettings()
    var childS = ChildSupervision()
    var r = RunSettings()
    switch f {
    case .ignoreCancel: a.uncancellableServiceTask = true
    case .unboundedPeerWait:
      a.peerWaitBounded = false
      s.closeChannelBeforeExitWait = false
    case .shieldedParentLoop:
      a.cancelParentLoopAtTeardown = false
      s.closeChannelBeforeExitWait = false
    case .blockingChildWait: a.blockingChildWait = true
    case .inheritFds:
      childS.keepInheritedFds = true
      childS.connectBackShielded = true
      childA.peerWaitBounded = false
    case .stdioPipe:
      a.stderrTracebackCopies = 200
      r.captureTreeStderr = true
    case .lostCancel:
      a.dropCancelRequests = true
      a.lingerBounded = false
      s.closeChannelBeforeExitWait = false
      s.hardKillLadder = false
    case .neverExit: a.callsExit = false
    case .bootDeath:
      s.bootHook = .exitBeforeConnectBack
      s.connectBackWatchesExit = false
    case .forkWithThreads: a.lockHoldingThread = true
    case .eofSpin:
      a.parentLoopReceiveCancellable = false
      a.spinOnParentEOF = true
    case .forkserverSerial:
      a.forkServerHoldsFirstRequest = true
      r.serialForkServer = true
    }
    return (a, s, childA, childS, r)
  }

  @Test(arguments: Fault.allCases)
  func eachCatalogFaultMapsToItsSettings(fault: Fault) {
    var sc = Scenario(
      name: "t",
      root: ActorSpec(
        name: "root", role: "root",
        children: [ActorSpec(name: "a", role: "spawner", children: [ActorSpec(name: "b", role: "leaf")], faults: [fault.rawValue])]))
    FaultInjection.settle(&sc)
    let (a, s, childA, childS, r) = FaultInjectionTests.expected(fault)
    let node = sc.root.children[0]
    #expect(node.settings == a)
    #expect(node.supervision == s)
    #expect(node.children[0].settings == childA)
    #expect(node.children[0].supervision == childS)
    #expect(sc.settings == r)
    // The root, without faults, keeps the correct runtime; only its boot is
    // shielded, as the ancestor of a faulted actor (so that the fault runs).
    #expect(sc.root.settings == ActorSettings())
    var pathOnly = ChildSupervision()
    pathOnly.connectBackShielded = true
    #expect(sc.root.supervision == pathOnly)
    // Every fault changes something beyond the shielded boot.
    var shieldedOnly = ChildSupervision()
    shieldedOnly.connectBackShielded = true
    #expect(
      a != ActorSettings() || s != shieldedOnly || childA != ActorSettings() || childS != ChildSupervision()
        || r != RunSettings())
  }

  @Test func everyFaultIsInTheCatalogOnce() {
    #expect(FaultCatalog.entries.map(\.fault) == Fault.allCases)
  }

  @Test func unknownAndInternalNamesAreRejectedWithTheirPath() throws {
    let text = """
      {"root": {"name": "r", "children": [{"name": "a", "faults": ["never-exit", "no-hard-kill"]},
        {"name": "b", "faults": ["nope"]}]}}
      """
    let s = try ScenarioParser.parse(text: text)
    #expect(throws: ScenarioError.self) { try FaultInjection.validate(s) }
    do { try FaultInjection.validate(s) } catch {
      #expect(error.description == "$.root.children[0].faults[1]: unknown fault 'no-hard-kill'")
    }
    var ok = s
    ok.root.children[0].faults = ["never-exit"]
    ok.root.children[1].faults = []
    try FaultInjection.validate(ok)
  }

  @Test func settingsTravelInTheSpawnSpecAndNamesDoNot() throws {
    var sc = Scenario(
      name: "t",
      root: ActorSpec(
        name: "root", role: "root",
        children: [ActorSpec(name: "a", role: "leaf", faults: ["lost-cancel", "boot-death", "stdio-pipe"])]))
    FaultInjection.settle(&sc)
    let spec = SpawnSpec(actor: sc.root, runDir: "/tmp/x", backend: "spawn", bounds: Bounds(), actorExecutable: "/bin/true", forkServer: nil)
    let wire = spec.json.compact
    #expect(!wire.contains("lost-cancel") && !wire.contains("faults"))
    let back = try #require(SpawnSpec(json: try JSONParser.parse(wire)))
    #expect(back.actor.children[0].settings == sc.root.children[0].settings)
    #expect(back.actor.children[0].supervision == sc.root.children[0].supervision)
    #expect(back.actor.children[0].supervision.bootHook == .exitBeforeConnectBack)
  }

  /// The runtime's sources name no fault: they read settings.
  @Test func runtimeSourcesReadNoFaultName() throws {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    let root = parts.joined(separator: "/") + "/Sources"
    var files: [String] = []
    func walk(_ dir: String) {
      for n in Syscalls.listDirectory(dir) {
        let p = dir + "/" + n
        if n.hasSuffix(".swift") { files.append(p) } else if !n.contains(".") { walk(p) }
      }
    }
    walk(root + "/ActorRuntime")
    walk(root + "/tractor-actor")
    #expect(files.count > 10, "found the runtime sources under \(root)")
    let needles = Fault.allCases.map { "\"\($0.rawValue)\"" } + ["FaultSet", "faults.has", "hasFault", "import FaultInjection"]
    for f in files {
      let text = String(decoding: try #require(Syscalls.readFile(f)), as: UTF8.self)
      for n in needles { #expect(!text.contains(n), "\(f) contains \(n)") }
    }
  }
}
