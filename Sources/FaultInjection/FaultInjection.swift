import ActorRuntime

/// Turns fault names into the runtime's neutral settings, once, before a
/// run: the one place that knows what each fault does. The runtime then
/// reads `ActorSettings`, `ChildSupervision` and `RunSettings` only.
public enum FaultInjection {
  /// Every fault name of the scenario's nodes must be in the catalog (an
  /// unknown name would otherwise be a fault silently not injected).
  /// The error names the JSON path of the name, as the scenario file has it.
  public static func validate(_ s: Scenario) throws(ScenarioError) {
    try validate(s.root, path: "$.root")
  }

  private static func validate(_ n: ActorSpec, path: String) throws(ScenarioError) {
    for (i, name) in n.faults.enumerated() where Fault(rawValue: name) == nil {
      throw ScenarioError(path: "\(path).faults[\(i)]", message: "unknown fault '\(name)'")
    }
    for (i, c) in n.children.enumerated() { try validate(c, path: "\(path).children[\(i)]") }
  }

  /// Sets every node's settings (and the run's) from the fault names of the
  /// tree. Call once all faults are in; names are validated before.
  public static func settle(_ s: inout Scenario) {
    s.root = settled(s.root, parentFaults: [])
    let all = Set(s.root.flatten().flatMap { faults(of: $0.0) })
    s.settings = runSettings(all)
  }

  static func faults(of n: ActorSpec) -> Set<Fault> { Set(n.faults.compactMap(Fault.init(rawValue:))) }

  private static func settled(_ n: ActorSpec, parentFaults: Set<Fault>) -> ActorSpec {
    var out = n
    let own = faults(of: n)
    out.settings = settings(own, parentFaults: parentFaults)
    out.supervision = supervision(own, parentFaults: parentFaults)
    // The path to a faulted actor boots too, whatever cancel races it: an
    // ancestor cancelled before its spec spawns nothing, and the fault below
    // would never run (a first-leaf fault at depth 7 was lost so in 1 run of 3).
    if n.children.contains(where: { $0.flatten().contains { !$0.0.faults.isEmpty } }) {
      out.supervision.connectBackShielded = true
    }
    out.children = n.children.map { settled($0, parentFaults: own) }
    return out
  }

  /// How an actor with faults `f`, whose parent has `parentFaults`, runs.
  public static func settings(_ f: Set<Fault>, parentFaults: Set<Fault> = []) -> ActorSettings {
    var s = ActorSettings()
    s.uncancellableServiceTask = f.contains(.ignoreCancel)
    // A parent that leaks fds into its children also gave them the
    // unbounded EOF wait tractor's teardown had when that bug was found.
    s.peerWaitBounded = !f.contains(.unboundedPeerWait) && !parentFaults.contains(.inheritFds)
    s.cancelParentLoopAtTeardown = !f.contains(.shieldedParentLoop)
    s.blockingChildWait = f.contains(.blockingChildWait)
    s.stderrTracebackCopies = f.contains(.stdioPipe) ? 200 : 0
    // lost-cancel: the cancel never comes, and nothing bounds the wait for it.
    s.dropCancelRequests = f.contains(.lostCancel)
    s.lingerBounded = !f.contains(.lostCancel)
    s.callsExit = !f.contains(.neverExit)
    s.lockHoldingThread = f.contains(.forkWithThreads)
    // eof-spin: the loop does not take cancellation, reads until EOF, and
    // then treats EOF as "try again".
    s.parentLoopReceiveCancellable = !f.contains(.eofSpin)
    s.spinOnParentEOF = f.contains(.eofSpin)
    s.forkServerHoldsFirstRequest = f.contains(.forkserverSerial)
    return s
  }

  /// How the parent starts and supervises a child with faults `f`.
  public static func supervision(_ f: Set<Fault>, parentFaults: Set<Fault> = []) -> ChildSupervision {
    var s = ChildSupervision()
    if f.contains(.bootDeath) {
      s.bootHook = .exitBeforeConnectBack
      s.connectBackWatchesExit = false
    }
    // A child with faults gets to run with them: a cancel (even one that came
    // first) does not cut its boot short, or a race would hide the fault.
    s.connectBackShielded = !f.isEmpty || parentFaults.contains(.inheritFds)
    s.keepInheritedFds = parentFaults.contains(.inheritFds)
    // These model a parent that keeps its channel end open until the child
    // has exited, as tractor's did.
    s.closeChannelBeforeExitWait = f.isDisjoint(with: [.unboundedPeerWait, .shieldedParentLoop, .lostCancel])
    s.hardKillLadder = !f.contains(.lostCancel)
    return s
  }

  /// Settings of the whole run, from every fault of the tree.
  public static func runSettings(_ all: Set<Fault>) -> RunSettings {
    var r = RunSettings()
    r.captureTreeStderr = all.contains(.stdioPipe)
    r.serialForkServer = all.contains(.forkserverSerial)
    return r
  }
}
