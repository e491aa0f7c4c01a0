import CSystem
import Glibc
import MiniJSON
import Probes
import Supervision
import SystemCore

/// What to run.
public struct RunConfig: Sendable {
  public var scenario: Scenario
  public var backend: String
  public var runDir: String
  public var timeoutMs: Int
  public var bounds: Bounds
  public var actorExecutable: String

  public init(scenario: Scenario, backend: String, runDir: String, timeoutMs: Int, bounds: Bounds, actorExecutable: String) {
    self.scenario = scenario
    self.backend = backend
    self.runDir = runDir
    self.timeoutMs = timeoutMs
    self.bounds = bounds
    self.actorExecutable = actorExecutable
  }
}

/// What happened, as the supervisor saw it (the probes say the rest).
public struct RunRecord: Sendable {
  public var supervisorPid: Int32
  public var rootPid: Int32?
  public var forkServerPid: Int32?
  /// The TreeKeeper (not part of the tree): ends the tree if the tool dies.
  public var keeperPid: Int32?
  public var rootError: ErrorInfo?
  public var rootValue: String?
  public var rootStatus: WaitStatus?
  public var timedOut = false
  public var interrupted: Int32? = nil  // the signal that interrupted the tool
  /// Descendants still alive when the deadline passed (hang) or after the root
  /// had exited (leak), before the tree was killed.
  public var aliveAtEnd: [Int32] = []
  public var killed: [Int32] = []
  public var survivors: [Int32] = []
  public var startNs: UInt64 = 0
  public var rootDoneNs: UInt64? = nil
  public var endNs: UInt64 = 0
  public var startError: String? = nil
  /// Exit statuses of processes the supervisor reaped itself (orphans that
  /// were reparented to it as subreaper, and the killed tree).
  public var reaped: [Int32: WaitStatus] = [:]
}

/// The `tractor-diag` process's side of a run: it is not part of the tree.
/// It starts the root as its child, plays the root's parent (the same
/// supervision skeleton as any nursery), holds the deadline, and kills the
/// whole tree before returning, as a child subreaper, also on Ctrl-C.
public final class RunSupervisor: @unchecked Sendable {
  let config: RunConfig
  let loop = EventLoop()
  var record = RunRecord(supervisorPid: Syscalls.pid)
  let onHang: (RunRecord) -> Void
  let onStall: (RunRecord) -> Void
  /// `captureTreeStderr` setting: the read end of the tree's stderr pipe,
  /// held and never read, like a test runner's capture pipe.
  var captureRead = FileDescriptor.none
  var captureWrite = FileDescriptor.none
  var captureWriteFD: Int32 { captureWrite.rawValue }

  /// `onHang` runs on the loop thread while the stuck tree is still alive
  /// (the diagnosis snapshots it there), before the tree is killed.
  /// `onStall` runs when no actor has written a probe for `stallMs` while
  /// the tree is alive (once per stall): the ladder may end a hang before the
  /// deadline, and this is the moment to look at it.
  public init(config: RunConfig, onHang: @escaping (RunRecord) -> Void, onStall: @escaping (RunRecord) -> Void = { _ in }) {
    self.config = config
    self.onHang = onHang
    self.onStall = onStall
  }

  public static let stallMs = 400

  public static func writeRunFile(_ cfg: RunConfig) throws(SystemError) {
    let run: JSONValue = [
      "scenario": .string(cfg.scenario.name), "backend": .string(cfg.backend), "timeoutMs": .int(Int64(cfg.timeoutMs)),
      "root": cfg.scenario.root.json, "expect": .from(cfg.scenario.expectOutcome),
      "expectRootError": .from(cfg.scenario.expectRootErrorType),
      "expectRootErrorCount": .from(cfg.scenario.expectRootErrorCount), "bounds": cfg.bounds.json,
    ]
    try Syscalls.writeFile(cfg.runDir + "/run.json", run.pretty + "\n")
  }

  public func run() -> RunRecord {
    EventLoop.current = loop
    Syscalls.ignoreSIGPIPE()
    TreeReaper.becomeSubreaper()
    // A depth-7 tree is 1023 actors: the teardown holds a pidfd for each.
    ResourceLimits.raiseOpenFilesToHard()
    record.startNs = Syscalls.monotonicNs()
    let probes: ProbeWriter
    do {
      try Syscalls.makeDirectories(config.runDir + "/probes")
      try RunSupervisor.writeRunFile(config)
      probes = try ProbeWriter(directory: config.runDir + "/probes", actor: "tractor-diag")
    } catch {
      record.startError = "\(error)"
      record.endNs = Syscalls.monotonicNs()
      return record
    }
    // Ctrl-C (and SIGTERM/SIGHUP) must still end in a dead, reaped tree.
    let signals = TerminationSignals()
    let stopEarly = LoopEvent(loop: loop)
    if let signals {
      _ = loop.onReady(signals.descriptor, Epoll.readable) { [self] _ in
        record.interrupted = signals.take() ?? record.interrupted
        stopEarly.set()
      }
    }
    loop.spawn {
      await self.supervise(probes: probes, stopEarly: stopEarly)
      self.loop.stop()
    }
    loop.run()
    if let signals { loop.forget(signals.descriptor) }
    captureRead.close()
    captureWrite.close()
    record.endNs = Syscalls.monotonicNs()
    return record
  }

  private func supervise(probes: ProbeWriter, stopEarly: LoopEvent) async {
    let deadlineNs = record.startNs + UInt64(config.timeoutMs) * 1_000_000
    if config.scenario.settings.captureTreeStderr {
      if let pipe = try? Syscalls.pipe() {
        captureRead.replace(with: pipe.first)
        captureWrite.replace(with: pipe.second)
        probes.record("supervisor", "CAPTURE_PIPE", detail: "tree stderr is a pipe nobody reads")
      }
    }
    var forkServerName: String? = nil
    // The keeper first: the tree's first process joins its group, so the
    // tree is ended even if this process is SIGKILLed (TreeKeeper).
    do {
      let keeper = try TreeKeeper.start(executable: config.actorExecutable)
      record.keeperPid = keeper.pid
    } catch {
      record.startError = "the tree keeper did not start: \(error)"
      TreeReaper.tearDown()
      return
    }
    let group = record.keeperPid ?? 0
    if config.backend == "forkserver" {
      let name = "tractor-diag-\(Syscalls.pid)-\(record.startNs % 1_000_000)"
      do {
        record.forkServerPid = try await startForkServer(name: name, group: group)
        forkServerName = name
        probes.record("forkserver", "STARTED", peer: record.forkServerPid)
      } catch {
        record.startError = "fork server did not start: \(error)"
        TreeReaper.tearDown()
        return
      }
    }
    // The supervisor never forks (it may have threads): under `fork` the root
    // is exec'ed and forks its own children.
    let rootBackend: any SpawnBackend =
      config.backend == "forkserver"
      ? ForkServerClient(loop: loop) : PosixSpawnBackend(loop: loop, stderrFD: captureWriteFD, processGroup: group)
    let spec = SpawnSpec(
      actor: config.scenario.root, runDir: config.runDir, backend: config.backend, bounds: config.bounds,
      actorExecutable: config.actorExecutable, forkServer: forkServerName)
    let nursery = Nursery(loop: loop, probes: probes, backend: rootBackend, spec: spec)
    let done = LoopEvent(loop: loop)
    let rootTask = loop.spawn { () -> ChildOutcome? in
      defer { done.set() }
      return await nursery.run([self.config.scenario.root]).first
    }
    // Wait for the root, a signal or the deadline; between, every 50 ms,
    // look whether the probe logs still grow (a stall is worth a snapshot).
    var lastSize = -1
    var lastChange = Syscalls.monotonicNs()
    var lastLook: UInt64 = 0
    var stalled = false
    let finished = await waitFirst(done, stopEarly, deadline: deadlineNs) { [self] in
      record.rootPid = nursery.spawned.first
      let now = Syscalls.monotonicNs()
      // A look stats every probe file: with over 128 of them, look every
      // 200 ms, not every tick (at depth 7 the 50 ms looks were 2.5% of the
      // run's CPU); a stall then shows after 400-600 ms instead of 400-450.
      if lastSize > 0 && probeFiles > 128 && now - lastLook < 200_000_000 { return }
      lastLook = now
      let size = probeBytes()
      if size != lastSize {
        lastSize = size
        lastChange = now
        stalled = false
      } else if !stalled && now - lastChange >= UInt64(RunSupervisor.stallMs) * 1_000_000 {
        stalled = true
        record.aliveAtEnd = liveTree()
        probes.record("supervisor", "STALL", detail: "no probe for \(RunSupervisor.stallMs) ms; \(record.aliveAtEnd.count) alive")
        lastSize = probeBytes()  // our own STALL line is not progress
        onStall(record)
      }
    }
    record.rootPid = nursery.spawned.first
    if finished == .first {
      record.rootDoneNs = Syscalls.monotonicNs()
      // The root is done; anything else still alive (bar the fork server)
      // must finish within the deadline too, or it has leaked.
      while Syscalls.monotonicNs() < deadlineNs && !stopEarly.isSet {
        TreeReaper.reapAll(boundMs: 0)
        let live = liveTree()
        if live.isEmpty { break }
        try? await loop.sleep(ms: 5)
      }
      record.aliveAtEnd = liveTree()
      if !record.aliveAtEnd.isEmpty && record.interrupted == nil {
        probes.record("supervisor", "LEAK", detail: record.aliveAtEnd.map(String.init).joined(separator: ","))
        onHang(record)
      }
    } else {
      record.timedOut = record.interrupted == nil
      record.aliveAtEnd = liveTree()
      probes.record("supervisor", record.timedOut ? "DEADLINE" : "INTERRUPTED", detail: "\(record.aliveAtEnd.count) alive")
      if record.timedOut { onHang(record) }
    }
    record.killed = TreeReaper.tearDown().filter { $0 != record.keeperPid }
    // The root's supervision task sees the kill and unwinds promptly; bounded.
    if !done.isSet { _ = try? await done.wait(deadline: deadline(afterMs: 3000)) }
    if done.isSet, let outcome = await rootTask.value {
      switch outcome {
      case .returned(let v): record.rootValue = v
      case .failed(let e), .cancelled(let e), .died(let e):
        record.rootError = record.rootPid.flatMap { nursery.rawErrors[$0] } ?? e
        // No process at all: the run did not start (exit 70, not a verdict).
        if nursery.spawned.isEmpty && e.type == "SpawnFailed" {
          record.startError = "the root actor could not be started: \(e.message)"
        }
      }
    }
    if let r = record.rootPid { record.rootStatus = TreeReaper.reaped[r] ?? record.rootStatus }
    TreeReaper.reapAll(boundMs: 1000)
    record.reaped = TreeReaper.reaped
    record.survivors = TreeReaper.descendants(of: Syscalls.pid)
    probes.record("supervisor", ProbeKind.returned, detail: "killed \(record.killed.count)")
  }

  /// How many probe logs the last `probeBytes` saw.
  private var probeFiles = 0

  /// Total size of the probe logs: it stops growing when the tree stalls.
  private func probeBytes() -> Int {
    let dir = config.runDir + "/probes"
    var total = 0
    let names = Syscalls.listDirectory(dir)
    for n in names {
      total += Syscalls.status(dir + "/" + n)?.size ?? 0
    }
    probeFiles = names.count
    return total
  }

  /// Live descendants other than the fork server and the keeper.
  private func liveTree() -> [Int32] {
    TreeReaper.liveDescendants(of: Syscalls.pid).filter { $0 != record.forkServerPid && $0 != record.keeperPid }
  }

  private enum First { case first, second, deadline }

  /// Waits for `a` or `b` until the deadline, calling `tick` every 50 ms.
  private func waitFirst(_ a: LoopEvent, _ b: LoopEvent, deadline d: UInt64, tick: () -> Void) async -> First {
    while true {
      if a.isSet { return .first }
      if b.isSet { return .second }
      let now = Syscalls.monotonicNs()
      if now >= d { return .deadline }
      _ = try? await LoopEvent.waitAny([a, b], deadline: min(d, now + 50_000_000))
      tick()
    }
  }

  private func startForkServer(name: String, group: Int32) async throws -> Int32 {
    var pipe = try Syscalls.pipe()
    let r = pipe.first.rawValue
    let serial = config.scenario.settings.serialForkServer
    let args = [config.actorExecutable, "forkserver", "--socket", name, "--run-dir", config.runDir, "--ready-fd", "3"]
      + (serial ? ["--serial"] : [])
    // The tree teardown kills and reaps it with the rest; only its pid is kept.
    let pid = try ChildLauncher.launch(
      LaunchSpec(
        executable: config.actorExecutable, arguments: args,
        fds: [.inherit, .inherit, captureWriteFD >= 0 ? .parent(captureWriteFD) : .inherit, .parent(pipe.second.rawValue)],
        processGroup: group)
    ).pid
    pipe.second.close()
    guard try await loop.readable(r, deadline: deadline(afterMs: 5000)) != .timedOut else {
      throw SystemError("fork server", errno: ETIMEDOUT, context: "not ready in 5 s")
    }
    var b: UInt8 = 0
    guard (try? withUnsafeMutableBytes(of: &b) { (p) throws(SystemError) in try pipe.first.read(into: p) }) == 1 else { throw SystemError("fork server", errno: EPIPE, context: "exited before ready") }
    return pid
  }
}
