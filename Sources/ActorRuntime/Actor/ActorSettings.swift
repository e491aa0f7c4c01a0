import MiniJSON

/// How one actor runs where a runtime could go either way. The defaults are
/// the correct runtime; other values reproduce a real bug (FaultInjection
/// sets them from fault names, once). The runtime reads these, never a fault
/// name, and its probes describe what it did, not why.
public struct ActorSettings: Sendable, Equatable {
  /// actor main's finally waits for peers to disconnect bounded by
  /// `Bounds.peersMs`; false: without a bound.
  public var peerWaitBounded = true
  /// After reporting, the root scope waits for the parent's cancel request
  /// bounded by `Bounds.lingerMs`; false: without a bound.
  public var lingerBounded = true
  /// Teardown cancels the (shielded) parent-channel loop by its handle.
  public var cancelParentLoopAtTeardown = true
  /// The parent-channel loop's receive takes cancellation; false: it is
  /// shielded and reads until EOF.
  public var parentLoopReceiveCancellable = true
  /// On EOF of the parent channel the loop spins instead of returning.
  public var spinOnParentEOF = false
  /// The message loop drops cancel requests instead of handling them.
  public var dropCancelRequests = false
  /// The process calls `_exit` once actor main returned; false: it waits
  /// forever instead.
  public var callsExit = true
  /// The service scope runs one more task, which waits and ignores its cancel.
  public var uncancellableServiceTask = false
  /// A second thread, holding a lock, is started once the spec arrives; fork
  /// children take that lock first thing.
  public var lockHoldingThread = false
  /// Copies of the traceback written to stderr when the behaviour raises.
  public var stderrTracebackCopies = 0
  /// The nursery waits for a started child's exit with a blocking wait that
  /// stops the whole loop.
  public var blockingChildWait = false
  /// Under the fork server, the first spawn request holds its connection
  /// silent until every other request of this actor has been served.
  public var forkServerHoldsFirstRequest = false

  public init() {}

  // Built once: every spec encode and decode walks it (1023 of each at depth 7).
  nonisolated(unsafe) static let flags: [(String, WritableKeyPath<ActorSettings, Bool>)] = {
    [
      ("peerWaitBounded", \.peerWaitBounded), ("lingerBounded", \.lingerBounded),
      ("cancelParentLoopAtTeardown", \.cancelParentLoopAtTeardown),
      ("parentLoopReceiveCancellable", \.parentLoopReceiveCancellable), ("spinOnParentEOF", \.spinOnParentEOF),
      ("dropCancelRequests", \.dropCancelRequests), ("callsExit", \.callsExit),
      ("uncancellableServiceTask", \.uncancellableServiceTask), ("lockHoldingThread", \.lockHoldingThread),
      ("blockingChildWait", \.blockingChildWait), ("forkServerHoldsFirstRequest", \.forkServerHoldsFirstRequest),
    ]
  }()

  /// Only what differs from the default (the spec travels over IPC).
  public var json: JSONValue {
    let d = ActorSettings()
    var o: [(String, JSONValue)] = ActorSettings.flags.filter { self[keyPath: $0.1] != d[keyPath: $0.1] }.map {
      ($0.0, .bool(self[keyPath: $0.1]))
    }
    if stderrTracebackCopies != 0 { o.append(("stderrTracebackCopies", .int(Int64(stderrTracebackCopies)))) }
    return .object(o)
  }

  public init(json v: JSONValue?) {
    self.init()
    guard let v else { return }
    for (k, p) in ActorSettings.flags { if let b = v[k]?.bool { self[keyPath: p] = b } }
    if let n = v["stderrTracebackCopies"]?.int { stderrTracebackCopies = Int(n) }
  }
}

/// What a child does at the very start of its process, before any probe
/// (transported by every backend; performed in `ActorProcess.startActor`).
public enum BootHook: String, Sendable, Equatable {
  case none
  /// `_exit(3)` before connecting back (a crash during import, say).
  case exitBeforeConnectBack = "exit-before-connect-back"
}

/// How a parent starts and supervises one child: settings of the parent's
/// side, carried on the child's node because they differ per child.
public struct ChildSupervision: Sendable, Equatable {
  /// What the child does first (see `BootHook`).
  public var bootHook = BootHook.none
  /// The connect-back wait races the child's exit (pidfd) and is bounded by
  /// `Bounds.bootMs`; false: it waits on the channel only, unbounded and
  /// shielded, and the parent keeps a copy of the child's channel end (as a
  /// listening socket would), so the child's death is no EOF either.
  public var connectBackWatchesExit = true
  /// The connect-back is shielded from the parent's cancel (a cancel that
  /// came first does not cut the child's boot short).
  public var connectBackShielded = false
  /// The child starts without closing the fds it inherits (and its parent's
  /// channel end survives exec).
  public var keepInheritedFds = false
  /// After the cancel ack the parent closes its channel end before waiting
  /// for the exit; false: it keeps it open until the child has exited.
  public var closeChannelBeforeExitWait = true
  /// The exit wait is bounded and followed by SIGTERM, grace, SIGKILL;
  /// false: it waits for the exit without bound.
  public var hardKillLadder = true

  public init() {}

  // Built once: every spec encode and decode walks it (1023 of each at depth 7).
  nonisolated(unsafe) static let flags: [(String, WritableKeyPath<ChildSupervision, Bool>)] = {
    [
      ("connectBackWatchesExit", \.connectBackWatchesExit), ("connectBackShielded", \.connectBackShielded),
      ("keepInheritedFds", \.keepInheritedFds), ("closeChannelBeforeExitWait", \.closeChannelBeforeExitWait),
      ("hardKillLadder", \.hardKillLadder),
    ]
  }()

  public var json: JSONValue {
    let d = ChildSupervision()
    var o: [(String, JSONValue)] = ChildSupervision.flags.filter { self[keyPath: $0.1] != d[keyPath: $0.1] }.map {
      ($0.0, .bool(self[keyPath: $0.1]))
    }
    if bootHook != .none { o.append(("bootHook", .string(bootHook.rawValue))) }
    return .object(o)
  }

  public init(json v: JSONValue?) {
    self.init()
    guard let v else { return }
    for (k, p) in ChildSupervision.flags { if let b = v[k]?.bool { self[keyPath: p] = b } }
    if let h = v["bootHook"]?.string.flatMap(BootHook.init(rawValue:)) { bootHook = h }
  }
}

/// Settings of the run as a whole, read by the run supervisor.
public struct RunSettings: Sendable, Equatable {
  /// The tree's stderr (and the fork server's) is a pipe the supervisor
  /// holds and never reads, like a test runner's capture pipe.
  public var captureTreeStderr = false
  /// The fork server serves one client at a time, blocking on it.
  public var serialForkServer = false

  public init() {}
}
