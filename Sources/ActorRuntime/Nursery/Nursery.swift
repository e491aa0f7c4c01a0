import Glibc
import Probes
import SystemCore

/// How one child ended, as its parent saw it.
public enum ChildOutcome: Sendable {
  case returned(String?)
  case failed(ErrorInfo)  // already boxed for this parent
  case cancelled(ErrorInfo)  // "Cancelled", or the errors it had gathered, boxed
  case died(ErrorInfo)  // exited or was killed without reporting

  var failure: ErrorInfo? {
    switch self {
    case .returned: return nil
    case .failed(let e), .cancelled(let e), .died(let e): return e
    }
  }

  var isError: Bool {
    switch self {
    case .failed, .died: return true
    case .cancelled(let e): return e.type != "Cancelled"
    case .returned: return false
    }
  }
}

/// An actor nursery: starts every child, supervises each with the skeleton
/// of the brief (start, connect-back raced against death, spec, join, soft
/// kill, hard kill), and on the first child error cancels all the others.
public final class Nursery: @unchecked Sendable {
  let loop: EventLoop
  let probes: ProbeWriter
  let backend: any SpawnBackend
  let spec: SpawnSpec
  /// The owning actor's settings (how its nursery waits on children).
  let settings: ActorSettings
  /// Errors exactly as each child raised them, before boxing (the supervisor
  /// reports the root's this way).
  public private(set) var rawErrors: [Int32: ErrorInfo] = [:]
  /// Every pid started, in order (the supervisor's first is the root).
  public private(set) var spawned: [Int32] = []

  public init(loop: EventLoop, probes: ProbeWriter, backend: any SpawnBackend, spec: SpawnSpec, settings: ActorSettings = ActorSettings()) {
    self.loop = loop
    self.probes = probes
    self.backend = backend
    self.spec = spec
    self.settings = settings
  }

  /// Runs all children to the end. Returns their outcomes in child order.
  /// Cancelling the calling task cancels every child (cancel requests cascade).
  public func run(_ children: [ActorSpec]) async -> [ChildOutcome] {
    probes.record("nursery", ProbeKind.enter, detail: "\(children.count) children")
    var outcomes = [ChildOutcome?](repeating: nil, count: children.count)
    await withTaskGroup(of: (Int, ChildOutcome).self) { group in
      for (i, c) in children.enumerated() {
        group.addTask { (i, await self.supervise(c)) }
      }
      var cancelling = false
      for await (i, o) in group {
        outcomes[i] = o
        if o.isError && !cancelling {
          // One cancels all: trio's nursery semantics.
          cancelling = true
          probes.record("nursery", "CANCEL_ALL", detail: "first error from \(children[i].name)")
          group.cancelAll()
        }
      }
    }
    probes.record("nursery", ProbeKind.returned)
    return outcomes.map { $0! }
  }

  /// The supervision skeleton for one child.
  func supervise(_ c: ActorSpec) async -> ChildOutcome {
    let childSpec = spec.forChild(c)
    let sup = c.supervision
    // 1. Start the process. Spawning itself is quick and not cancellable.
    let child: ChildProcess
    defer { probes.record("spawn", ProbeKind.finally, detail: c.name) }
    do {
      child = try await loop.shielded { () -> Result<ChildProcess, SpawnFailure> in
        // Right before the backend call: spawn cost is measured from here to
        // the child's first probe.
        self.probes.record("spawn", ProbeKind.enter, detail: c.name)
        do {
          let child = try await self.backend.start(childSpec, probes: self.probes)
          // Our copy of the child's channel end goes now, so that its death
          // is EOF here, unless this child's supervision keeps it.
          if sup.connectBackWatchesExit { child.closeChildEnd() }
          return .success(child)
        } catch {
          return .failure(SpawnFailure(description: "\(error)"))
        }
      }.get()
    } catch {
      probes.record("nursery", "SPAWN_FAILED", detail: "\(c.name): \(error)")
      return .died(ErrorInfo(type: "SpawnFailed", message: "\(error)", actor: c.name, pid: 0))
    }
    spawned.append(child.pid)
    probes.record("nursery", "SPAWNED", peer: child.pid, detail: c.name)
    var reported: ChildOutcome? = nil
    var cancelledHere = false
    // 2. Connect-back, raced against the child dying during boot (else the
    //    parent would wait forever on a dead child), bounded.
    probes.record("connect_back", ProbeKind.enter, peer: child.pid)
    let boot = await connectBack(child, sup)
    switch boot {
    case .ok:
      probes.record("connect_back", ProbeKind.returned, peer: child.pid)
    case .cancelled:
      probes.record("connect_back", ProbeKind.cancelled, peer: child.pid)
      cancelledHere = true
    case .failed(let why):
      probes.record("connect_back", "FAILED", peer: child.pid, detail: why)
      reported = .died(
        ErrorInfo(type: "ActorDied", message: "\(c.name) (pid \(child.pid)) failed during boot: \(why)", actor: c.name, pid: child.pid))
    }
    // 3. Send the spec; 4. join: wait for its result or error.
    if case .ok = boot {
      do {
        try await child.channel.send(.spawnSpec(childSpec), deadline: deadline(afterMs: spec.bounds.bootMs))
        if settings.blockingChildWait {
          // A wait for the child's exit with a call that blocks the whole
          // loop, so no cancel (nor anything else) can interrupt it.
          probes.record("child_exit_wait", ProbeKind.enter, peer: child.pid, detail: "blocking")
          child.blockUntilExit()
          probes.record("child_exit_wait", ProbeKind.returned, peer: child.pid)
        }
        probes.record("portal", ProbeKind.enter, peer: child.pid, detail: c.name)
        let m = try await child.channel.receive()
        reported = outcome(of: m, child)
        probes.record("portal", ProbeKind.returned, peer: child.pid, detail: m.typeName)
      } catch is CancellationError {
        probes.record("portal", ProbeKind.cancelled, peer: child.pid)
        cancelledHere = true
      } catch {
        probes.record("portal", "LOST", peer: child.pid, detail: "\(error)")
      }
      probes.record("portal", ProbeKind.finally, peer: child.pid)
    }
    // 5-6. Soft kill then hard kill, shielded: this must finish even though
    //      (especially when) this task was cancelled.
    let early = reported
    let wasCancelled = cancelledHere
    return await loop.shielded { await self.teardown(child, c, reported: early, cancelled: wasCancelled) }
  }

  private struct SpawnFailure: Error, CustomStringConvertible { var description: String }

  private enum Boot { case ok, cancelled, failed(String) }

  private func connectBack(_ child: ChildProcess, _ sup: ChildSupervision) async -> Boot {
    if !sup.connectBackWatchesExit {
      // Shielded, without bound, and without watching the child's pidfd
      // (its channel end is still open here, as a listening socket would
      // be, so EOF does not come either).
      let r = await loop.shielded { () -> Bool in
        if case .started? = try? await child.channel.receive(deadline: nil) { return true }
        return false
      }
      return r ? .ok : .failed("no connect-back")
    }
    if sup.connectBackShielded {
      // Not cut short by a cancel (even one that came first).
      return await loop.shielded { await self.connectBackRace(child) }
    }
    return await connectBackRace(child)
  }

  private func connectBackRace(_ child: ChildProcess) async -> Boot {
    let bound = deadline(afterMs: spec.bounds.bootMs)
    do {
      let r: Result<Message, ChannelError>? = try await withThrowingTaskGroup(of: Result<Message, ChannelError>?.self) { g in
        g.addTask {
          do { return .success(try await child.channel.receive(deadline: bound)) } catch let e as ChannelError { return .failure(e) }
        }
        // Race the connect-back against the child dying during boot.
        g.addTask {
          _ = try await child.waitExit(deadline: bound)
          return child.status.map { _ in .failure(ChannelError.closed) }
        }
        defer { g.cancelAll() }
        while let next = try await g.next() {
          if let n = next { return n }
        }
        return nil
      }
      switch r {
      case .success(.started(_, _))?: return .ok
      case .success(let m)?: return .failed("expected started, got \(m.typeName)")
      case .failure(let e)?:
        if let s = child.poll() { return .failed("died (\(s)) before connecting back") }
        return .failed("\(e)")
      case nil: return .failed("no connect-back")
      }
    } catch {
      return .cancelled
    }
  }

  private func outcome(of m: Message, _ child: ChildProcess) -> ChildOutcome? {
    switch m {
    case .result(let v): return .returned(v)
    case .error(let e):
      probes.record("nursery", "CHILD_ERROR", peer: child.pid, detail: e.type + ": " + e.message)
      rawErrors[child.pid] = e
      return .failed(e.boxed(by: child.name, pid: child.pid))
    case .cancelAck(let errs):
      return .cancelled(cancelledInfo(errs, child))
    default: return nil
    }
  }

  private func cancelledInfo(_ errs: [ErrorInfo], _ child: ChildProcess) -> ErrorInfo {
    if let g = ErrorInfo.gather(errs, actor: child.name, pid: child.pid) {
      return g.boxed(by: child.name, pid: child.pid)
    }
    return ErrorInfo(type: "Cancelled", message: "\(child.name) was cancelled", actor: child.name, pid: child.pid)
  }

  /// Soft kill (cancel request, bounded ack), then wait for exit, then the
  /// hard-kill ladder: SIGTERM, grace, SIGKILL. Always reaps.
  private func teardown(_ child: ChildProcess, _ c: ActorSpec, reported: ChildOutcome?, cancelled: Bool) async -> ChildOutcome {
    var result = reported
    let b = spec.bounds
    if child.channel.isOpen && child.poll() == nil {
      probes.record("cancel_actor", ProbeKind.enter, peer: child.pid)
      do {
        try await child.channel.send(.cancelRequest, deadline: deadline(afterMs: b.cancelAckMs))
        let ackBy = deadline(afterMs: b.cancelAckMs)
        ackLoop: while true {
          let m = try await child.channel.receive(deadline: ackBy)
          switch m {
          case .cancelAck(let errs):
            if result == nil { result = .cancelled(cancelledInfo(errs, child)) }
            probes.record("cancel_actor", ProbeKind.returned, peer: child.pid, detail: "ack")
            break ackLoop
          default:
            if result == nil { result = outcome(of: m, child) }
          }
        }
      } catch {
        probes.record("cancel_actor", "NO_ACK", peer: child.pid, detail: "\(error)")
      }
    }
    let sup = c.supervision
    // Done talking: closing our end is what lets the child's "wait for peers
    // to disconnect" finish. (A parent may keep its end open until the child
    // has exited, as tractor's did; it is closed below, after the exit wait,
    // and closing twice is a no-op.)
    if sup.closeChannelBeforeExitWait {
      child.channel.close()
    }
    // The child's own teardown is bounded by peersMs; allow it that plus a
    // margin before the ladder, so a bounded child is never killed mid-teardown.
    let exitBoundMs: Int? = sup.hardKillLadder ? max(b.exitWaitMs, b.peersMs + 1000) : nil
    probes.record(
      "child_exit_wait", ProbeKind.enter, peer: child.pid, detail: "bound=" + (exitBoundMs.map { "\($0)ms" } ?? "none"))
    var status = try? await child.waitExit(deadline: exitBoundMs.map { deadline(afterMs: $0) })
    if status == nil && sup.hardKillLadder {
      probes.record("hard_kill", "SIGTERM", peer: child.pid)
      child.signal(SIGTERM)
      status = try? await child.waitExit(deadline: deadline(afterMs: b.graceMs))
      if status == nil {
        probes.record("hard_kill", "SIGKILL", peer: child.pid)
        child.signal(SIGKILL)
        status = try? await child.waitExit(deadline: deadline(afterMs: 5000))
      }
    }
    child.channel.close()
    probes.record("child_exit_wait", ProbeKind.returned, peer: child.pid, detail: status.map { "\($0)" } ?? "still running")
    probes.record("nursery", "REAPED", peer: child.pid, detail: status.map { "\($0)" } ?? "unknown")
    if let r = result { return r }
    let how = status.map { "\($0)" } ?? "an unknown status"
    return .died(
      ErrorInfo(
        type: "ActorDied", message: "\(c.name) (pid \(child.pid)) ended with \(how) without reporting", actor: c.name,
        pid: child.pid))
  }
}

extension Nursery {
  /// Instantiates, in the fork server before its first fork, the generic
  /// types this file's code needs in every actor and the server's own
  /// warm-up (which runs the message and loop code) does not reach; fork
  /// children find them in the caches they inherit. Found with a uprobe on
  /// the Swift runtime's mangled-name lookup in fork children: each child
  /// looked these up again (demangling, metadata and conformance checks:
  /// 3% of all actor CPU at depth 7).
  static func warmUpTypes() {
    let e = ErrorInfo(type: "w", message: "w", actor: "w", pid: 0)
    var raw: [Int32: ErrorInfo] = [:]
    raw[Syscalls.pid] = e
    // As `run` builds its result.
    let outcomes = [ChildOutcome?](repeating: .failed(e), count: Int(Syscalls.pid & 1) + 1).map { $0! }
    keep(raw, outcomes, Result<ChildProcess, SpawnFailure>.self, ((Int, ChildOutcome)?).self, (ErrorInfo?, ErrorInfo?).self)
  }

  /// Where the warm-up's values go, so that the optimizer keeps them.
  @inline(never) @_optimize(none)
  private static func keep(_ values: Any...) {}
}
