import ActorRuntime
import KernelEvidence
import MiniJSON

/// One actor as the verdict shows it.
public struct ActorRecord: Sendable {
  public var pid: Int32
  public var name: String
  public var role: String
  public var parentPid: Int32?
  public var reachedExit: Bool
  public var exitStatus: String?  // "exit 0", "signal 9 (SIGKILL)"
  public var exitCode: Int?  // wait-status code (128+N for signals)
  public var lastProbe: (site: String, event: String, detail: String?)?
  public var lastProbeMs: Double?
  public var diesOnPurpose: Bool
  public var hardKilled: String?  // "SIGTERM"/"SIGKILL" when its parent had to
  public var depth: Int
  /// A foreign process's whole argv (watch); nil for our actors.
  public var cmdline: [String]? = nil
  /// A foreign process's state and syscall in a few words (watch rows).
  public var doing: String? = nil
}

/// A process that was still alive when the watched command exited and
/// ended by itself within the grace: not a leak.
public struct LingeringProcess: Sendable {
  public var pid: Int32
  public var name: String
  /// From the command's exit to this process's end.
  public var ms: Double

  public init(pid: Int32, name: String, ms: Double) {
    self.pid = pid
    self.name = name
    self.ms = ms
  }
}

/// What a stuck process is blocked on, with the evidence.
public struct BlockedOn: Sendable {
  public var pid: Int32
  public var probe: String  // last probes and the open waits
  public var kernel: String?  // syscall, wchan, edge evidence
  public var stack: [String]  // frame lines
  public var edge: String?  // the kernel wait edge leaving this pid, if any
  public var python: PythonBlocked? = nil  // stuck tasks and main-thread frames (PythonEvidence.swift)
  /// The process that edge waits on (text can skip an edge a chain shows).
  public var edgeTo: Int32? = nil
}

/// A terminal process of a chain and the named cause.
public struct TerminalVerdict: Sendable {
  public var pid: Int32
  public var name: String
  public var hangClass: HangClass
  public var explanation: String
  public var evidence: [String]
  public var hint: String
}

/// A process folded out of the chains: it waits for everyone (e.g.
/// multiprocessing's resource tracker reading a pipe every process holds)
/// and nobody waits on it. Its edges stay in the evidence.
public struct Bystander: Sendable, Equatable {
  public var pid: Int32
  public var name: String
  public var reason: String
}

/// The answer for one run.
public struct Verdict: Sendable {
  public var outcome: String  // clean, hang, leak, unexpected
  public var scenario: String
  public var backend: String
  public var runDir: String
  public var durationMs: Double
  public var timeoutMs: Int
  public var actors: [ActorRecord]
  public var stuck: [Int32]
  public var waitChains: [[Int32]]
  public var cycles: [[Int32]]
  public var error: ErrorInfo?
  public var rootValue: String?
  public var unexpected: [String]
  public var notes: [String]
  public var blockedOn: [BlockedOn]
  public var terminals: [TerminalVerdict]
  public var spawnMsPerActor: Double?
  public var firstErrorMs: Double?
  public var teardownMs: Double?
  public var damagedLines: Int
  public var survivors: [Int32]
  public var killed: [Int32]
  public var interrupted: Int32?
  public var hasEvidence = false
  public var forkServerPid: Int32? = nil
  /// Why the run did not start (no tree, no verdict to speak of): exit 70.
  public var startError: String? = nil
  /// Spawn costs (ms, spawn request -> child's first probe) of the children
  /// that actors spawned. The root is left out: the supervisor asks for it
  /// (and under `fork` it is exec'ed, as the supervisor never forks).
  public var actorSpawnMs: [Double] = []
  /// Folded processes (G3): not chain heads, not terminals, not "outside".
  public var bystanders: [Bystander] = []
  /// Stuck processes outside every chain and cycle, bystanders and zombies
  /// left out: what "stuck outside any chain" lists.
  public var outsideChains: [Int32] = []
  /// watch: the command's argv (the header shows it shell-quoted).
  public var command: [String]? = nil
  /// watch: processes that ended within the grace after the command exited.
  public var lingering: [LingeringProcess] = []
  /// watch: the process's exit code when it is not the run's (124, 3, the
  /// command's own status, 128+signal); `exitCode` then returns it.
  public var exitCodeOverride: Int32? = nil
  /// The wait graph's edges (probe and kernel; each kind of a pair, where
  /// the graph keeps one per pair): what `--format dot` draws. Not in the JSON.
  public var edges: [WaitEdge] = []

  /// 0 clean and as expected; 1 hang or leak; 3 unexpected outcome; 70 the
  /// run did not start; 130 interrupted.
  public var exitCode: Int32 {
    if startError != nil { return Exit.internalError }
    if let exitCodeOverride { return exitCodeOverride }
    if interrupted != nil { return Exit.interrupted }
    switch outcome {
    case "clean": return Exit.clean
    case "hang", "leak": return Exit.hangOrLeak
    default: return Exit.unexpected
    }
  }

  public var hangClass: HangClass? { terminals.first?.hangClass }

  public func name(of pid: Int32) -> String {
    actors.first(where: { $0.pid == pid })?.name ?? "pid \(pid)"
  }

  public var json: JSONValue {
    func probeJ(_ a: ActorRecord) -> JSONValue {
      guard let p = a.lastProbe else { return .null }
      return ["site": .string(p.site), "event": .string(p.event), "detail": .from(p.detail)]
    }
    return [
      "outcome": .string(outcome),
      "exitCode": .int(Int64(exitCode)),
      "scenario": .string(scenario),
      "backend": .string(backend),
      "runDir": .string(runDir),
      "durationMs": .double((durationMs * 10).rounded() / 10),
      "timeoutMs": .int(Int64(timeoutMs)),
      "hangClass": .from(hangClass?.name),
      "stuck": .array(stuck.map { .int(Int64($0)) }),
      "waitChains": .array(waitChains.map { .array($0.map { .int(Int64($0)) }) }),
      "cycles": .array(cycles.map { .array($0.map { .int(Int64($0)) }) }),
      "terminal": .array(
        terminals.map {
          [
            "pid": .int(Int64($0.pid)), "name": .string($0.name), "class": .string($0.hangClass.name),
            "explanation": .string($0.explanation), "evidence": .array($0.evidence.map { .string($0) }),
            "hint": .string($0.hint),
          ]
        }),
      "blockedOn": .array(
        blockedOn.map {
          [
            "pid": .int(Int64($0.pid)), "probe": .string($0.probe), "kernel": .from($0.kernel), "edge": .from($0.edge),
            "stack": .array($0.stack.map { .string($0) }), "python": $0.python?.json ?? .null,
          ]
        }),
      "actors": .array(
        actors.map {
          [
            "pid": .int(Int64($0.pid)), "name": .string($0.name), "role": .string($0.role),
            "parentPid": .from($0.parentPid), "reachedExit": .bool($0.reachedExit),
            "exitStatus": $0.exitCode.map { .int(Int64($0)) } ?? .null, "exitStatusText": .from($0.exitStatus),
            "lastProbe": probeJ($0), "hardKilled": .from($0.hardKilled),
            "cmdline": $0.cmdline.map { .array($0.map { .string($0) }) } ?? .null,
          ]
        }),
      "error": error.map(\.json) ?? .null,
      "rootValue": .from(rootValue),
      "unexpected": .array(unexpected.map { .string($0) }),
      "notes": .array(notes.map { .string($0) }),
      "timings": [
        "spawnMsPerActorMedian": spawnMsPerActor.map { .double(($0 * 1000).rounded() / 1000) } ?? .null,
        "firstErrorMs": firstErrorMs.map { .double(($0 * 10).rounded() / 10) } ?? .null,
        "teardownMs": teardownMs.map { .double(($0 * 10).rounded() / 10) } ?? .null,
      ],
      "damagedProbeLines": .int(Int64(damagedLines)),
      "bystanders": .array(
        bystanders.map { ["pid": .int(Int64($0.pid)), "name": .string($0.name), "reason": .string($0.reason)] }),
      "outsideChains": .array(outsideChains.map { .int(Int64($0)) }),
      "killed": .array(killed.map { .int(Int64($0)) }),
      "survivors": .array(survivors.map { .int(Int64($0)) }),
      "interrupted": .from(interrupted),
      "lingering": .array(
        lingering.map { ["pid": .int(Int64($0.pid)), "name": .string($0.name), "ms": .double(($0.ms * 10).rounded() / 10)] }),
    ]
  }
}
