import Glibc  // strerror, errno names
import MiniJSON
import Probes
import SystemCore

/// The fork server: a single-threaded process, started before anything else,
/// that forks every actor on request. Requests arrive on an abstract-namespace
/// SOCK_SEQPACKET listener: one datagram `{"name","runDir"}` carrying the
/// child's channel end (SCM_RIGHTS); the reply `{"pid"}` carries a pidfd.
///
/// Every connection is served on its own readiness callback, so a client that
/// connects and then sends nothing blocks nobody (tractor's mp_forkserver hang
/// was a server stuck in recvmsg on one such client). It uses no Swift tasks:
/// callbacks only, so a fork never happens with a task frame on the stack.
public final class ForkServer: @unchecked Sendable {
  let loop: EventLoop
  let listener: FileDescriptor
  let probes: ProbeWriter
  let serial: Bool
  /// The nice value the server was started with, when the server raised its
  /// own priority: its children get it back. nil when the boost was refused.
  let childNice: Int32?
  /// How much the server raises its own priority (best effort; nice stops
  /// at -20). At depth 7 up to ~100 actors are runnable at once: at 10 the
  /// server spent 85% of its life waiting for a CPU (schedstat), and served
  /// its queue late; at 20 the tree made 25% fewer context switches.
  static let niceBoost: Int32 = 20
  /// The supervisor that started us: with our own children (the actors),
  /// the only processes we fork for.
  let supervisorPid: Int32
  /// The soft RLIMIT_NOFILE the server was started with: raised to the hard
  /// limit here (a pidfd per live actor: 1023 at depth 7), given back to
  /// every child before any actor code runs. nil: not raised.
  let childOpenFiles: UInt64?
  /// SIGCHLD as a signalfd: the server reaps every exited child on it with
  /// waitpid(-1). Holding a pidfd per live child instead (1023 at depth 7)
  /// cost every fork child a close_range over them and an epoll set of
  /// that size, and every reap an epoll_ctl pair (at depth 7, close_range,
  /// close and epoll_ctl were 9.5% of all actor CPU with pidfds, 6% without).
  /// nil (no signalfd): a pidfd per child, as before.
  let childExits: OwnedFD?

  /// An fd owned by the callbacks that use it (a client connection, a
  /// received channel end, a pidfd being watched). A fork child drops the
  /// server's callbacks after its fd sweep closed these fds, and the numbers
  /// may be reused by then (fd 3 is the child's channel): only the process
  /// that opened the fd closes it.
  final class OwnedFD {
    var fd: FileDescriptor
    let openedBy = Syscalls.pid
    init(_ fd: consuming FileDescriptor) { self.fd = fd }
    var raw: Int32 { fd.rawValue }
    deinit { if Syscalls.pid != openedBy { fd.relinquish() } }
  }

  /// Entry of `tractor-actor forkserver --socket NAME --run-dir DIR`.
  /// `readyFD` gets one byte once the server listens.
  public static func main(socketName: String, runDir: String, readyFD: Int32, serial: Bool) -> Never {
    Syscalls.ignoreSIGPIPE()
    // Die with the supervisor that started us: PDEATHSIG is tied to the
    // creating thread, which for the supervisor is its only thread.
    try? Syscalls.setParentDeathSignal(SIGKILL)
    // Every spawn of the tree waits on this one process, while the actors it
    // started keep both cores busy: at equal priority a request waited for a
    // CPU for up to 5 ms in a 63-actor tree. The server is idle but for
    // forks, so it asks to run first when woken; children go back to the
    // nice value the server was started with before any actor code runs.
    let startNice = Syscalls.niceValue()
    var niceNote = "nice=\(max(startNice - niceBoost, -20))"
    var childNice: Int32? = startNice
    do { try Syscalls.setNice(max(startNice - niceBoost, -20)) } catch {
      niceNote = "nice=\(startNice) (\(error))"
      childNice = nil
    }
    let supervisor = Syscalls.parentPid
    let openFiles = ResourceLimits.raiseOpenFilesToHard()
    let loop = EventLoop()
    EventLoop.current = loop
    let probes = (try? ProbeWriter(directory: runDir + "/probes", actor: "forkserver")) ?? ProbeWriter(discardingFor: "forkserver")
    let listener: FileDescriptor
    // A depth-7 tree has up to 512 spawners asking at once: with the
    // default backlog of 128 the rest get EAGAIN and retry every ms,
    // taking CPU from the server they wait for.
    do { listener = try UnixSockets.listen(abstract: socketName, backlog: 1024) } catch {
      probes.record("forkserver", "LISTEN_FAILED", detail: String(cString: strerror(error.errno)))
      Syscalls.exitImmediately(71)
    }
    warmUp(runDir: runDir)
    warmUp(loop: loop)
    Nursery.warmUpTypes()
    // Every fork child runs much of the code the server has run (warmed up
    // above), from the same executable: fork copies the page table entries
    // of its text and read-only data once they are shared this way, instead
    // of each child faulting them in again. Measured at depth 7: page
    // faults of the whole tree 120k -> 75k, CPU -10% (medians of 6).
    // Populating the whole text first saved no further fault.
    ImageMappings.shareWithForkChildren()
    var childExits: OwnedFD? = nil
    if let fd = try? ProcessControl.childSignalFD() { childExits = OwnedFD(fd) }
    let server = ForkServer(
      loop: loop, listener: listener, probes: probes, serial: serial, childNice: childNice, supervisorPid: supervisor,
      childOpenFiles: openFiles, childExits: childExits)
    probes.record("forkserver", "UP", detail: "socket=@\(socketName) serial=\(serial) \(niceNote)")
    do {
      let ready = FileDescriptor(adopting: readyFD)
      let one: [UInt8] = [1]
      _ = one.withUnsafeBytes { b in try? ready.writeAll(b) }
    }  // closed here: the starter sees the byte, then EOF
    server.acceptLoop()
    server.reapOnChildSignal()
    loop.run()
    Syscalls.exitImmediately(0)
  }

  /// Runs, once, the message code every actor runs (encode and decode of
  /// each message kind, a spawn spec with children, an error tree boxed and
  /// gathered), so that the Swift runtime's type metadata and lazy globals
  /// it instantiates are in this process before the first fork: every child
  /// inherits them instead of building them again. Measured at depth 7:
  /// metadata instantiation was 12% of all actor CPU, in each child anew;
  /// with this and `warmUp(loop:)`, 5%.
  static func warmUp(runDir: String) {
    let leaf = ActorSpec(name: "w_errorer", role: "errorer", behavior: .error(afterMs: 0, message: "w"))
    let root = ActorSpec(name: "w", role: "spawner", children: [leaf, leaf])
    let spec = SpawnSpec(
      actor: root, runDir: runDir, backend: "forkserver", bounds: Bounds(), actorExecutable: "", forkServer: "w")
    let e = ErrorInfo(type: "AssertionError", message: "w", actor: "w_errorer", pid: 1, traceback: "w")
    let tree = ErrorInfo.gather([e.boxed(by: "w_errorer", pid: 1), e.boxed(by: "w_errorer", pid: 2)], actor: "w", pid: 3)
    let messages: [Message] = [
      .started(pid: 1, name: "w"), .spawnSpec(spec.forChild(leaf)), .spawnSpec(spec), .result(value: "w"), .result(value: nil),
      .error(tree ?? e), .cancelRequest, .cancelAck(errors: [e]),
    ]
    for m in messages {
      var frame = m.encoded()
      if let payload = try? FrameCodec.decode(&frame) { _ = try? Message.decode(payload: payload) }
    }
  }

  /// The same for the loop and task code actors run and the server does
  /// not (it uses callbacks only): the loop's job queue and timers, task
  /// groups of the result types the nursery and actor main use. Every wait
  /// here is bounded; the loop stops when the task is done.
  static func warmUp(loop: EventLoop) {
    loop.spawn {
      let e = LoopEvent(loop: loop)
      _ = try? await withThrowingTaskGroup(of: Result<Message, ChannelError>?.self) { g in
        g.addTask {
          // A wait that suspends (the event's waiter list) until the
          // other task sets it after a timer (the loop's timer table).
          _ = try await LoopEvent.waitAny([e], deadline: deadline(afterMs: 100))
          return .success(.cancelRequest)
        }
        g.addTask {
          try await loop.sleep(ms: 1)
          e.set()
          return nil
        }
        defer { g.cancelAll() }
        while let next = try await g.next() { if next != nil { break } }
      }
      var spec: SpawnSpec? = SpawnSpec(
        actor: ActorSpec(name: "w", role: "errorer"), runDir: "", backend: "", bounds: Bounds(), actorExecutable: "",
        forkServer: nil)
      if spec?.actor.name == "w" { spec = nil }
      var outcomes = [ChildOutcome?](repeating: nil, count: 1)
      await withTaskGroup(of: (Int, ChildOutcome).self) { g in
        g.addTask { (0, .returned(nil)) }
        for await (i, o) in g { outcomes[i] = o }
      }
      _ = outcomes
      await withTaskGroup(of: ActorMain.Part.self) { g in
        g.addTask { .cancelled }
        for await _ in g {}
      }
      loop.stop()
    }
    loop.run()
  }

  init(
    loop: EventLoop, listener: consuming FileDescriptor, probes: ProbeWriter, serial: Bool, childNice: Int32?,
    supervisorPid: Int32, childOpenFiles: UInt64?, childExits: OwnedFD?
  ) {
    self.childExits = childExits
    self.loop = loop
    self.listener = listener
    self.probes = probes
    self.serial = serial
    self.childNice = childNice
    self.supervisorPid = supervisorPid
    self.childOpenFiles = childOpenFiles
  }

  /// The access rule: the abstract socket's name is visible to every
  /// process on the machine (abstract sockets have no file permissions), so
  /// the server forks only for a client of our uid that is the supervisor
  /// or one of the actors we forked (its ppid chain reaches us), by the
  /// credentials the kernel recorded at connect(2) (SO_PEERCRED).
  /// Anyone else is refused: closed without a fork, with a REFUSED probe.
  private func admits(_ conn: OwnedFD) -> Bool {
    guard let peer = try? PeerCredentials.of(conn.raw) else {
      probes.record("forkserver", "REFUSED", detail: "no peer credentials")
      return false
    }
    let ours = peer.uid == PeerCredentials.ourUID
    let inRun = peer.pid == supervisorPid || ProcessList.isDescendant(peer.pid, of: Syscalls.pid)
    if ours && inRun { return true }
    probes.record(
      "forkserver", "REFUSED", peer: peer.pid,
      detail: "uid=\(peer.uid) pid=\(peer.pid): " + (ours ? "not a process of this run" : "not our uid \(PeerCredentials.ourUID)"))
    return false
  }

  func acceptLoop() {
    _ = loop.onReady(listener.rawValue, Epoll.readable) { [self] _ in
      while true {
        let accepted: FileDescriptor?
        do { accepted = try UnixSockets.accept(listener) } catch { break }
        guard let c = accepted else { break }
        let conn = OwnedFD(c)
        guard admits(conn) else {
          conn.fd.close()
          continue
        }
        if serial {
          // Serial: serve this client to the end, blocking, before
          // accepting anyone else.
          try? conn.fd.setNonBlocking(false)
          probes.record("forkserver", "SERVE_SERIAL", detail: "fd \(conn.raw)")
          serveOne(conn)
        } else {
          // Clients send their request right after connecting, so it is
          // usually there already: try it now, and wait only on EAGAIN.
          serveOne(conn)
        }
      }
      acceptLoop()
    }
  }

  private func drop(_ conn: OwnedFD) {
    loop.forget(conn.raw)
    conn.fd.close()
  }

  private func serveOne(_ conn: OwnedFD) {
    let received: IOResult<(bytes: [UInt8], fds: [Int32])>
    do { received = try UnixSockets.receive(conn.fd, capacity: 4096, maxFDs: 4) } catch {
      received = .done(([], []))  // a broken connection: dropped below
    }
    guard case .done(let msg) = received else {
      // Not sent yet: serve it when it arrives, and everyone else meanwhile.
      _ = loop.onReady(conn.raw, Epoll.readable) { [self] _ in serveOne(conn) }
      return
    }
    guard !msg.bytes.isEmpty, !msg.fds.isEmpty,
      let req = try? JSONParser.parse(bytes: msg.bytes),
      let name = req["name"]?.string, let runDir = req["runDir"]?.string
    else {
      FileDescriptor.closeAll(msg.fds)
      drop(conn)
      return
    }
    let channel = OwnedFD(FileDescriptor(adopting: msg.fds[0]))
    let bootHook = req["bootHook"]?.string.flatMap(BootHook.init(rawValue:)) ?? .none
    FileDescriptor.closeAll(msg.fds.dropFirst())
    // Fork between jobs, from the loop itself: no callback or task of ours is
    // half-way through anything the child could trip over.
    loop.runBetweenJobs { [self] in
      let pid: Int32
      do throws(SystemError) { pid = try Syscalls.fork() } catch { pid = -error.errno }
      if pid == 0 {
        // An actor runs at the priority the tree was started with, not the
        // server's (raising nice needs no privilege, so this cannot fail).
        if let n = childNice { try? Syscalls.setNice(n) }
        if let n = childOpenFiles { try? ResourceLimits.setOpenFilesSoft(n) }
        // The child keeps its channel only; the listener, other clients'
        // connections and pidfds are closed by ForkedChild.
        ForkedChild.become(channelFD: channel.raw, runDir: runDir, name: name, bootHook: bootHook)
        return
      }
      channel.fd.close()
      var reply: JSONValue = ["pid": .int(Int64(max(pid, -1)))]
      var pidfd = FileDescriptor.none
      if pid > 0 {
        if let fd = try? Syscalls.pidfdOpen(pid) { pidfd.replace(with: fd) }
        probes.record("forkserver", "FORKED", peer: pid, detail: name)
      } else {
        reply = ["error": .string(String(cString: strerror(-pid)))]
      }
      _ = try? UnixSockets.send(conn.fd, Array(reply.compact.utf8), fds: pidfd.isOpen ? [pidfd.rawValue] : [])
      drop(conn)
      if pidfd.isOpen && childExits == nil { watchForReap(pid: pid, pidfd: OwnedFD(pidfd)) }
      // else our copy of the pidfd closes here: SIGCHLD tells us of the exit.
    }
  }

  /// Reaps every exited child each time SIGCHLD arrives (signals of a kind
  /// coalesce while pending: one read may stand for many exits).
  private func reapOnChildSignal() {
    guard let fd = childExits else { return }
    _ = loop.onReady(fd.raw, Epoll.readable) { [self] _ in
      while ProcessControl.readSignal(fd.raw) != nil {}
      while case .reaped(let pid, let status) = ProcessControl.reapAny() {
        probes.record("forkserver", "REAPED", peer: pid, detail: "\(status)")
      }
      reapOnChildSignal()
    }
  }

  /// The server is the OS parent of every actor: it reaps them, or they stay
  /// zombies. Their exit status reaches logical parents via PIDFD_GET_INFO.
  private func watchForReap(pid: Int32, pidfd: OwnedFD) {
    _ = loop.onReady(pidfd.raw, Epoll.readable) { [self] _ in
      if let status = try? Syscalls.reap(pidfd: pidfd.raw) {
        probes.record("forkserver", "REAPED", peer: pid, detail: "\(status)")
        pidfd.fd.close()
      } else {
        watchForReap(pid: pid, pidfd: pidfd)
      }
    }
  }
}

/// The `forkServerHoldsFirstRequest` setting, client side: the first request
/// holds its connection open, without sending, until every other request of
/// this client has been served (a client that "batches" its requests).
public final class RequestGate: @unchecked Sendable {
  let others: Int
  var served = 0
  var firstTaken = false
  let open: LoopEvent

  public init(loop: EventLoop, others: Int) {
    self.others = others
    open = LoopEvent(loop: loop)
    if others <= 0 { open.set() }
  }

  func served(_ wasFirst: Bool) {
    if !wasFirst { served += 1 }
    if served >= others { open.set() }
  }
}

/// `forkserver` backend, client side: asks the server for a child.
public struct ForkServerClient: SpawnBackend, @unchecked Sendable {
  public let name = "forkserver"
  let loop: EventLoop
  var gate: RequestGate? = nil

  public init(loop: EventLoop, gate: RequestGate? = nil) {
    self.loop = loop
    self.gate = gate
  }

  public func start(_ spec: SpawnSpec, probes: ProbeWriter) async throws -> ChildProcess {
    guard let server = spec.forkServer else { throw SystemError("forkserver", errno: ENOENT, context: "no server address") }
    var holdFirst: LoopEvent? = nil
    var isFirst = false
    if let g = gate, !g.firstTaken {
      g.firstTaken = true
      isFirst = true
      holdFirst = g.open
    }
    let child = try await ForkServerClient.request(
      server: server, name: spec.actor.name, runDir: spec.runDir, loop: loop, bootMs: spec.bounds.bootMs,
      bootHook: spec.actor.supervision.bootHook, holdUntil: holdFirst)
    gate?.served(isFirst)
    return child
  }

  public static func request(
    server: String, name: String, runDir: String, loop: EventLoop, bootMs: Int, bootHook: BootHook = .none,
    holdUntil: LoopEvent? = nil
  ) async throws
    -> ChildProcess
  {
    var until = deadline(afterMs: bootMs)
    // 1. Everything the request needs comes first, so that it follows the
    //    connect at once: the server, woken by the connect, then usually
    //    finds it queued and forks in the same wake-up.
    // Both ends are closed on every way out but the hand-over below.
    let pair = try Syscalls.socketPair()
    let parentEnd = pair.first
    let childEnd = pair.second
    let req = JSONValue.object(
      [("name", .string(name)), ("runDir", .string(runDir))]
        + (bootHook == .none ? [] : [("bootHook", .string(bootHook.rawValue))]))
    let bytes = Array(req.compact.utf8)
    let sock = try UnixSockets.seqpacket()
    defer { loop.forget(sock.rawValue) }
    // 2. Connect, bounded: a full backlog gives EAGAIN, not a blocked thread.
    while true {
      do {
        if case .done = try UnixSockets.connect(sock, abstract: server) { break }
      } catch {
        throw SystemError("connect", errno: error.errno, context: "fork server @\(server)")
      }
      if Syscalls.monotonicNs() > until { throw SystemError("connect", errno: ETIMEDOUT, context: "fork server @\(server)") }
      try await loop.sleep(ms: 1)
    }
    if let hold = holdUntil {
      // Connected, and silent until the gate opens.
      _ = try await hold.wait(deadline: nil)
      until = deadline(afterMs: bootMs)  // the reply's own bound starts now
    }
    // 3. The request carries the child's end of the fresh channel.
    do throws(SystemError) {
      guard let sent = try UnixSockets.send(sock, bytes, fds: [childEnd.rawValue]).value, sent > 0 else {
        throw SystemError("sendmsg", errno: EAGAIN, context: "fork server request")
      }
    } catch {
      throw SystemError("sendmsg", errno: error.errno, context: "fork server request")
    }
    // 4. The reply: pid, and the pidfd we will wait on.
    while true {
      let received: IOResult<(bytes: [UInt8], fds: [Int32])>
      do { received = try UnixSockets.receive(sock, capacity: 512, maxFDs: 2) } catch {
        throw SystemError("recvmsg", errno: error.errno, context: "fork server reply")
      }
      guard case .done(let reply) = received else {
        if try await loop.readable(sock.rawValue, deadline: until) == .timedOut {
          throw SystemError("recvmsg", errno: ETIMEDOUT, context: "fork server reply")
        }
        continue
      }
      guard !reply.bytes.isEmpty else { throw SystemError("recvmsg", errno: ECONNRESET, context: "fork server reply") }
      guard let v = try? JSONParser.parse(bytes: reply.bytes), let pid = v["pid"]?.int, let pidfd = reply.fds.first else {
        FileDescriptor.closeAll(reply.fds)
        throw SystemError("forkserver", errno: EPROTO, context: "bad reply")
      }
      FileDescriptor.closeAll(reply.fds.dropFirst())
      let child = ChildProcess(
        pid: Int32(pid), name: name, pidfd: FileDescriptor(adopting: pidfd), channel: Channel(owning: parentEnd, loop: loop),
        isOSChild: false, loop: loop)
      child.childEnd = childEnd
      return child
    }
  }
}
