import Glibc
import Probes
import SystemCore

/// How an actor's service scope ended.
enum ServiceOutcome: Sendable {
  case ok(String?)
  case failed(ErrorInfo)
  case cancelled([ErrorInfo])
}

/// One actor process's life, from connect-back to the value it returns
/// for `_exit`. The stages (and their probes) follow tractor's actor main.
public final class ActorMain: @unchecked Sendable {
  let loop: EventLoop
  let probes: ProbeWriter
  let parent: Channel
  var spec: SpawnSpec!
  /// This actor's settings (from its spec; defaults until it arrives).
  var settings = ActorSettings()
  var serviceTask: Task<ServiceOutcome, Never>?
  var gatheredErrors: [ErrorInfo] = []
  let cancelComplete: LoopEvent
  let peerClosed: LoopEvent
  var cancelRequested = false
  var nursery: Nursery?

  init(loop: EventLoop, probes: ProbeWriter, parentFD: Int32) {
    self.loop = loop
    self.probes = probes
    self.parent = Channel(adopting: parentFD, loop: loop)
    cancelComplete = LoopEvent(loop: loop)
    peerClosed = LoopEvent(loop: loop)
  }

  /// Returns the process's exit code. `actor_main RETURN` is written on
  /// every path, once teardown is done; the caller writes `process EXIT` right
  /// before `_exit`, so a process that never exits shows RETURN without EXIT.
  func run(nameHint: String) async -> Int32 {
    let rc = await stages(nameHint: nameHint)
    probes.record("actor_main", ProbeKind.returned, detail: "rc=\(rc)")
    if !settings.callsExit {
      // Teardown is done; the process never reaches its exit call.
      await loop.waitIgnoringCancellation()
    }
    return rc
  }

  private func stages(nameHint: String) async -> Int32 {
    probes.record("actor_main", ProbeKind.enter)
    // Connect back: the parent is racing this against our death.
    do {
      try await parent.send(.started(pid: Syscalls.pid, name: nameHint), deadline: deadline(afterMs: 5000))
      switch try await parent.receive(deadline: deadline(afterMs: 5000)) {
      case .spawnSpec(let s):
        spec = s
      case .cancelRequest:
        // Cancelled before we were told what to be (a sibling failed first):
        // acknowledge, with nothing gathered, and end normally.
        probes.record("cancel", ProbeKind.enter, detail: "before spawn spec")
        try? await parent.send(.cancelAck(errors: []), deadline: deadline(afterMs: 500))
        probes.record("cancel", ProbeKind.returned)
        _ = try? await parent.waitForPeerClose(deadline: deadline(afterMs: 3000))
        return 0
      default:
        probes.record("actor_main", "BAD_SPEC")
        return 2
      }
    } catch {
      probes.record("actor_main", "BOOT_FAILED", detail: "\(error)")
      return 2
    }
    probes.actor = spec.actor.name
    settings = spec.actor.settings
    probes.record("runtime", "UP", detail: "role=\(spec.actor.role) backend=\(spec.backend) nice=\(Syscalls.niceValue())")
    if settings.lockHoldingThread {
      LockHolderThread.start()
      ForkedChild.lockHeldByAnotherThread = true
    }

    // The parent-channel loop is shielded: only its own handle cancels it.
    let parentLoop = loop.spawn { await self.parentChannelLoop() }
    let service = loop.spawn { await self.serviceScope() }
    serviceTask = service
    let outcome = await service.value

    // Report. The send is shielded (this task is never cancelled) and bounded.
    switch outcome {
    case .ok(let v):
      try? await parent.send(.result(value: v), deadline: deadline(afterMs: 3000))
    case .failed(let e):
      try? await parent.send(.error(e), deadline: deadline(afterMs: 3000))
    case .cancelled:
      break  // the cancel path acknowledges, carrying what was gathered
    }
    // Root scope: stay until the parent's cancel request (it always sends one
    // once it has our outcome) or its disappearance, bounded.
    probes.record("root_scope", ProbeKind.enter)
    let linger: UInt64? = settings.lingerBounded ? deadline(afterMs: spec.bounds.lingerMs) : nil
    _ = try? await LoopEvent.waitAny([cancelComplete, peerClosed], deadline: linger)
    probes.record("root_scope", ProbeKind.returned)

    probes.record("actor_main", ProbeKind.finally)
    probes.record("unregister", ProbeKind.enter)
    probes.record("unregister", ProbeKind.returned)
    // Wait for peers to disconnect. Bounded: unbounded was a real hang.
    // The detail says which bound the code used: `bound=3000ms` or `bound=none`.
    let peersMs: Int? = settings.peerWaitBounded ? spec.bounds.peersMs : nil
    probes.record(
      "wait_for_no_more_peers", ProbeKind.enter, peer: parentPid(), detail: "bound=" + (peersMs.map { "\($0)ms" } ?? "none"))
    let cleared = (try? await peerClosed.wait(deadline: peersMs.map { deadline(afterMs: $0) })) ?? false
    probes.record("wait_for_no_more_peers", ProbeKind.returned, detail: cleared ? "clear" : "timeout")
    if settings.cancelParentLoopAtTeardown {
      parentLoop.cancel()
    }
    await parentLoop.value
    parent.close()
    return 0
  }

  private func parentPid() -> Int32 { getppid() }

  /// Reads the parent channel: cancel requests, and EOF (the logical parent
  /// is gone: under a fork server that is the only way to learn it).
  func parentChannelLoop() async {
    probes.record("msg_loop", ProbeKind.enter, detail: "parent shield=true")
    defer { peerClosed.set() }
    while true {
      do {
        // A receive that does not take cancellation reads until EOF.
        let m: Message
        if !settings.parentLoopReceiveCancellable {
          m = try await loop.shielded { [parent] () -> Result<Message, any Error> in
            do { return .success(try await parent.receive()) } catch { return .failure(error) }
          }.get()
        } else {
          m = try await parent.receive()
        }
        switch m {
        case .cancelRequest where !settings.dropCancelRequests:
          await cancel(byParent: true)
        default:
          // Nothing else is meant for this loop (or cancel requests are
          // dropped): say so, whatever the reason.
          probes.record("msg_loop", "DROPPED", detail: m.typeName)
        }
      } catch is CancellationError {
        probes.record("msg_loop", ProbeKind.cancelled)
        return
      } catch ChannelError.closed {
        probes.record("msg_loop", "EOF", detail: "parent channel closed")
        if settings.spinOnParentEOF {
          // The real bug: a loop that treats EOF as "try again".
          probes.record("msg_loop", "SPIN")
          while true { _ = parent.fd; Syscalls.yieldProcessor() }
        }
        if !cancelComplete.isSet && serviceTask != nil {
          await cancel(byParent: false)
        }
        probes.record("msg_loop", ProbeKind.returned)
        return
      } catch {
        probes.record("msg_loop", "ERROR", detail: "\(error)")
        if !cancelComplete.isSet && serviceTask != nil { await cancel(byParent: false) }
        return
      }
    }
  }

  /// The actor's cancel method: cancel the service scope (behaviour and
  /// nursery, which cascades cancel requests down), then acknowledge.
  func cancel(byParent: Bool) async {
    probes.record("cancel", ProbeKind.enter, detail: byParent ? "requested by parent" : "parent gone")
    cancelRequested = true
    if let s = serviceTask {
      s.cancel()
      let o = await s.value
      if case .cancelled(let errs) = o { gatheredErrors = errs }
    }
    if byParent {
      try? await parent.send(.cancelAck(errors: gatheredErrors), deadline: deadline(afterMs: 3000))
    }
    cancelComplete.set()
    probes.record("cancel", ProbeKind.returned)
  }

  /// Behaviour and nursery side by side; the first error cancels the other.
  func serviceScope() async -> ServiceOutcome {
    probes.record("service_scope", ProbeKind.enter)
    let me = spec.actor
    var backend = Backends.make(spec.backend, loop: loop) ?? PosixSpawnBackend(loop: loop)
    if spec.backend == "forkserver" && settings.forkServerHoldsFirstRequest {
      backend = ForkServerClient(loop: loop, gate: RequestGate(loop: loop, others: me.children.count - 1))
    }
    let nursery = Nursery(loop: loop, probes: probes, backend: backend, spec: spec, settings: settings)
    self.nursery = nursery
    var ownError: ErrorInfo? = nil
    var value: String? = nil
    var childOutcomes: [ChildOutcome] = []
    await withTaskGroup(of: Part.self) { g in
      if settings.uncancellableServiceTask {
        // A service task that keeps waiting after its cancel request: it
        // never gets to write RETURN or CANCELLED.
        g.addTask {
          self.probes.record("task", ProbeKind.enter, detail: "service task")
          await self.loop.waitIgnoringCancellation()
          self.probes.record("task", ProbeKind.returned)
          return .cancelled
        }
      }
      if me.behavior != .none {
        g.addTask { await self.runBehavior(me.behavior) }
      }
      if !me.children.isEmpty {
        g.addTask { .children(await nursery.run(me.children)) }
      }
      for await part in g {
        switch part {
        case .value(let v): value = v
        case .error(let e):
          ownError = e
          g.cancelAll()
        case .children(let outs):
          childOutcomes = outs
          if outs.contains(where: \.isError) { g.cancelAll() }
        case .cancelled: break
        }
      }
    }
    let failures = childOutcomes.compactMap(\.failure)
    let anyError = ownError != nil || childOutcomes.contains(where: \.isError)
    if anyError {
      let all = (ownError.map { [$0] } ?? []) + failures
      let e = ErrorInfo.gather(all, actor: me.name, pid: Syscalls.pid)!
      probes.record("service_scope", "ERROR", detail: e.type)
      // Cancelled before it could report: the parent gets these with the ack.
      if cancelRequested { return .cancelled(all) }
      return .failed(e)
    }
    if Task.isCancelled || cancelRequested {
      probes.record("service_scope", ProbeKind.cancelled)
      return .cancelled(failures.filter { $0.type != "Cancelled" })
    }
    probes.record("service_scope", ProbeKind.returned)
    return .ok(value)
  }

  enum Part: Sendable {
    case value(String?)
    case error(ErrorInfo)
    case children([ChildOutcome])
    case cancelled
  }

  func runBehavior(_ b: Behavior) async -> Part {
    probes.record("behavior", ProbeKind.enter, detail: b.json.compact)
    do {
      switch b {
      case .none: break
      case .error(let after, let message):
        if after > 0 { try await loop.sleep(ms: after) }
        let e = ErrorInfo(
          type: "AssertionError", message: message, actor: spec.actor.name, pid: Syscalls.pid,
          traceback: "Traceback (most recent call last):\n  in \(spec.actor.name) behavior error\nAssertionError: \(message)")
        probes.record("behavior", "RAISE", detail: message)
        // Failing actors may write their traceback to stderr, as Python does.
        writeTraceback(e, times: settings.stderrTracebackCopies)
        probes.record("behavior", ProbeKind.returned, detail: "raised")
        return .error(e)
      case .sleep(let ms):
        try await loop.sleep(ms: ms)
      case .sleepForever:
        try await loop.sleepForever()
      case .ignoreCancel:
        // Keeps waiting after its cancel: neither RETURN nor CANCELLED.
        await loop.waitIgnoringCancellation()
      case .returnValue(let v):
        probes.record("behavior", ProbeKind.returned, detail: v)
        return .value(v)
      case .crash(let after, let code, let sig):
        if after > 0 { try await loop.sleep(ms: after) }
        probes.record("behavior", "CRASH", detail: sig.map { "signal \($0)" } ?? "exit \(code ?? 1)")
        if let sig {
          Syscalls.resetSignals()
          Syscalls.kill(Syscalls.pid, sig)
        }
        Syscalls.exitImmediately(code ?? 1)
      }
      probes.record("behavior", ProbeKind.returned)
      return .value(nil)
    } catch {
      probes.record("behavior", ProbeKind.cancelled)
      return .cancelled
    }
  }

  private func writeTraceback(_ e: ErrorInfo, times: Int) {
    let line = (e.traceback ?? e.message) + "\n"
    for _ in 0..<times { Syscalls.write(line, to: 2) }
  }
}
