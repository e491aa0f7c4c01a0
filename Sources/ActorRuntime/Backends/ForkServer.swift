import CSystem
import Glibc
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
  let listenFD: Int32
  let probes: ProbeWriter
  let serial: Bool
  var reapers: [Int32: Int32] = [:]  // pidfd -> pid
  /// The nice value the server was started with, when the server raised its
  /// own priority: its children get it back. nil when the boost was refused.
  let childNice: Int32?
  /// How much the server raises its own priority (best effort).
  static let niceBoost: Int32 = 10

  /// Socket address for an abstract name (leading NUL, no file on disk).
  static func address(_ name: String) -> (sockaddr_un, socklen_t) {
    var a = sockaddr_un()
    a.sun_family = sa_family_t(AF_UNIX)
    let bytes = [UInt8](name.utf8.prefix(100))
    withUnsafeMutableBytes(of: &a.sun_path) { p in
      p[0] = 0
      for (i, b) in bytes.enumerated() { p[i + 1] = b }
    }
    let len = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
    return (a, len)
  }

  /// Entry of `tractor-actor forkserver --socket NAME --run-dir DIR`.
  /// `readyFD` gets one byte once the server listens.
  public static func main(socketName: String, runDir: String, readyFD: Int32, serial: Bool) -> Never {
    cs_ignore_sigpipe()
    // Die with the supervisor that started us: PDEATHSIG is tied to the
    // creating thread, which for the supervisor is its only thread.
    _ = cs_set_pdeathsig(SIGKILL)
    // Every spawn of the tree waits on this one process, while the actors it
    // started keep both cores busy: at equal priority a request waited for a
    // CPU for up to 5 ms in a 63-actor tree. The server is idle but for
    // forks, so it asks to run first when woken; children go back to the
    // nice value the server was started with before any actor code runs.
    let startNice = Syscalls.niceValue()
    var niceNote = "nice=\(startNice - niceBoost)"
    var childNice: Int32? = startNice
    do { try Syscalls.setNice(startNice - niceBoost) } catch {
      niceNote = "nice=\(startNice) (\(error))"
      childNice = nil
    }
    let loop = EventLoop()
    EventLoop.current = loop
    let probes = (try? ProbeWriter(directory: runDir + "/probes", actor: "forkserver")) ?? ProbeWriter(discardingFor: "forkserver")
    let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    var (addr, len) = address(socketName)
    let ok = withUnsafePointer(to: &addr) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 }
    }
    guard fd >= 0, ok, listen(fd, 128) == 0 else {
      probes.record("forkserver", "LISTEN_FAILED", detail: String(cString: strerror(errno)))
      _exit(71)
    }
    let server = ForkServer(loop: loop, listenFD: fd, probes: probes, serial: serial, childNice: childNice)
    probes.record("forkserver", "UP", detail: "socket=@\(socketName) serial=\(serial) \(niceNote)")
    var one: UInt8 = 1
    _ = write(readyFD, &one, 1)
    close(readyFD)
    server.acceptLoop()
    loop.run()
    _exit(0)
  }

  init(loop: EventLoop, listenFD: Int32, probes: ProbeWriter, serial: Bool, childNice: Int32?) {
    self.loop = loop
    self.listenFD = listenFD
    self.probes = probes
    self.serial = serial
    self.childNice = childNice
  }

  func acceptLoop() {
    _ = loop.onReady(listenFD, CS_EPOLLIN) { [self] _ in
      while true {
        let c = cs_accept_nonblocking(listenFD)
        if c < 0 { break }
        if serial {
          // Serial: serve this client to the end, blocking, before
          // accepting anyone else.
          let flags = fcntl(c, F_GETFL)
          _ = fcntl(c, F_SETFL, flags & ~O_NONBLOCK)
          probes.record("forkserver", "SERVE_SERIAL", detail: "fd \(c)")
          serveOne(c)
        } else {
          // Clients send their request right after connecting, so it is
          // usually there already: try it now, and wait only on EAGAIN.
          serveOne(c)
        }
      }
      acceptLoop()
    }
  }

  private func serveOne(_ conn: Int32) {
    var buf = [UInt8](repeating: 0, count: 4096)
    var fds = [Int32](repeating: -1, count: 4)
    var nfds: Int32 = 0
    var n: Int = -1
    repeat {
      n = cs_recv_with_fds(conn, &buf, buf.count, &fds, 4, &nfds)
    } while n < 0 && errno == EINTR
    if n < 0 && errno == EAGAIN {
      // Not sent yet: serve it when it arrives, and everyone else meanwhile.
      _ = loop.onReady(conn, CS_EPOLLIN) { [self] _ in serveOne(conn) }
      return
    }
    guard n > 0, nfds >= 1,
      let req = try? JSONParser.parse(bytes: Array(buf[0..<n])),
      let name = req["name"]?.string, let runDir = req["runDir"]?.string
    else {
      for i in 0..<Int(max(0, nfds)) { close(fds[i]) }
      loop.forget(conn)
      close(conn)
      return
    }
    let channel = fds[0]
    let bootHook = req["bootHook"]?.string.flatMap(BootHook.init(rawValue:)) ?? .none
    for i in 1..<Int(nfds) { close(fds[i]) }
    // Fork between jobs, from the loop itself: no callback or task of ours is
    // half-way through anything the child could trip over.
    loop.runBetweenJobs { [self] in
      let pid = cs_fork()
      if pid == 0 {
        // An actor runs at the priority the tree was started with, not the
        // server's (raising nice needs no privilege, so this cannot fail).
        if let n = childNice { try? Syscalls.setNice(n) }
        // The child keeps its channel only; the listener, other clients'
        // connections and pidfds are closed by ForkedChild.
        ForkedChild.become(channelFD: channel, runDir: runDir, name: name, bootHook: bootHook)
        return
      }
      close(channel)
      var reply: JSONValue = ["pid": .int(Int64(pid))]
      var pidfd: Int32 = -1
      if pid > 0 {
        pidfd = cs_pidfd_open(pid, 0)
        probes.record("forkserver", "FORKED", peer: pid, detail: name)
      } else {
        reply = ["error": .string(String(cString: strerror(errno)))]
      }
      let bytes = Array(reply.compact.utf8)
      var sendFDs: [Int32] = pidfd >= 0 ? [pidfd] : []
      _ = bytes.withUnsafeBytes { b in cs_send_with_fds(conn, b.baseAddress, b.count, &sendFDs, Int32(sendFDs.count)) }
      loop.forget(conn)
      close(conn)
      if pidfd >= 0 { watchForReap(pid: pid, pidfd: pidfd) }
    }
  }

  /// The server is the OS parent of every actor: it reaps them, or they stay
  /// zombies. Their exit status reaches logical parents via PIDFD_GET_INFO.
  private func watchForReap(pid: Int32, pidfd: Int32) {
    _ = loop.onReady(pidfd, CS_EPOLLIN) { [self] _ in
      var raw: Int32 = 0
      if cs_waitid_pidfd(pidfd, &raw) == 1 {
        probes.record("forkserver", "REAPED", peer: pid, detail: "\(WaitStatus(raw: raw))")
        close(pidfd)
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
    let (parentEnd, childEnd) = try Syscalls.socketPair().takeRaw()
    // Until a ChildProcess owns them, every way out closes both ends.
    var handedOver = false
    defer {
      if !handedOver {
        close(parentEnd)
        close(childEnd)
      }
    }
    let req = JSONValue.object(
      [("name", .string(name)), ("runDir", .string(runDir))]
        + (bootHook == .none ? [] : [("bootHook", .string(bootHook.rawValue))]))
    let bytes = Array(req.compact.utf8)
    let sock = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
    guard sock >= 0 else { throw SystemError("socket", errno: errno) }
    defer { loop.forget(sock); close(sock) }
    var (addr, len) = ForkServer.address(server)
    // 2. Connect, bounded: a full backlog gives EAGAIN, not a blocked thread.
    while true {
      let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(sock, $0, len) } }
      if rc == 0 { break }
      let e = errno
      if e == EINTR { continue }
      if e == EAGAIN || e == EINPROGRESS {
        if Syscalls.monotonicNs() > until { throw SystemError("connect", errno: ETIMEDOUT, context: "fork server @\(server)") }
        try await loop.sleep(ms: 1)
        continue
      }
      throw SystemError("connect", errno: e, context: "fork server @\(server)")
    }
    if let hold = holdUntil {
      // Connected, and silent until the gate opens.
      _ = try await hold.wait(deadline: nil)
      until = deadline(afterMs: bootMs)  // the reply's own bound starts now
    }
    // 3. The request carries the child's end of the fresh channel.
    var one = [childEnd]
    let sent = bytes.withUnsafeBytes { b in cs_send_with_fds(sock, b.baseAddress, b.count, &one, 1) }
    guard sent > 0 else { throw SystemError("sendmsg", errno: errno, context: "fork server request") }
    // 4. The reply: pid, and the pidfd we will wait on.
    var buf = [UInt8](repeating: 0, count: 512)
    var fds = [Int32](repeating: -1, count: 2)
    var nfds: Int32 = 0
    while true {
      let n = cs_recv_with_fds(sock, &buf, buf.count, &fds, 2, &nfds)
      if n > 0 {
        guard let v = try? JSONParser.parse(bytes: Array(buf[0..<n])), let pid = v["pid"]?.int, nfds >= 1 else {
          for i in 0..<Int(nfds) { close(fds[i]) }
          throw SystemError("forkserver", errno: EPROTO, context: "bad reply")
        }
        let child = ChildProcess(
          pid: Int32(pid), name: name, pidfd: fds[0], channel: Channel(adopting: parentEnd, loop: loop), isOSChild: false,
          loop: loop)
        child.childEnd = childEnd
        handedOver = true
        return child
      }
      let e = errno
      if n < 0 && e == EINTR { continue }
      if n < 0 && e == EAGAIN {
        if try await loop.readable(sock, deadline: until) == .timedOut {
          throw SystemError("recvmsg", errno: ETIMEDOUT, context: "fork server reply")
        }
        continue
      }
      throw SystemError("recvmsg", errno: n == 0 ? ECONNRESET : e, context: "fork server reply")
    }
  }
}
