import ActorRuntime
import CSystem
import Glibc
import MiniJSON
import Probes
import Supervision
import SystemCore
import Testing
import TestSupport

/// The three spawn backends, end to end, and `compare` across them.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BackendTests {
  @Test(arguments: ["fork", "forkserver"])
  func nestedMultierrorsIsCleanUnderEveryBackend(backend: String) throws {
    for depth in [1, 3] {
      let r = ToolProcess.run(["nested-multierrors", "--backend", backend, "--depth", "\(depth)", "--format", "json", "--run-dir", ToolProcess.runDir("b-\(backend)-\(depth)")])
      #expect(ToolProcess.survivors().isEmpty)
      let v = try #require(r.json, "\(r.stdout) \(r.stderr)")
      #expect(r.status == 0, "\(backend) depth \(depth): \(r.stdout)")
      #expect(v["outcome"]?.string == "clean")
      let n = v["actors"]?.array?.count ?? 0
      #expect(n <= (1 << (depth + 3)) - 1 && n >= 5, "a spawner may be cancelled before it spawns")
      #expect(v["error"]?["type"]?.string == "MultiError")
      #expect(v["error"]?["children"]?.array?.count == 2)
    }
  }

  @Test func everyForkHappensWithOneThread() throws {
    let dir = ToolProcess.runDir("threads")
    let r = ToolProcess.run(["nested-multierrors", "--backend", "fork", "--depth", "2", "--run-dir", dir, "--format", "json"])
    #expect(r.status == 0)
    #expect(ToolProcess.survivors().isEmpty)
    let log = try ProbeLog.read(runDir: dir)
    let forks = log.events.filter { $0.site == "fork" && $0.event == "FORK" }
    // Every actor but the exec'ed root was forked (as many as were spawned:
    // a spawner cancelled early spawns fewer).
    let spawnedByActors = log.events.filter { $0.site == "nursery" && $0.event == "SPAWNED" && $0.actor != "tractor-diag" }
    #expect(forks.count == spawnedByActors.count)
    #expect(forks.count >= 4)
    #expect(forks.allSatisfy { ($0.detail ?? "").hasPrefix("threads=1 ") }, "\(forks.map { $0.detail ?? "" })")
  }

  @Test func forkWithThreadsIsNamedFromEvidence() throws {
    let (r, v) = try ToolProcess.verdict([
      "nested-multierrors", "--backend", "fork", "--depth", "0", "--fault", "fork-with-threads", "--timeout", "3", "--format", "json",
      "--run-dir", ToolProcess.runDir("fwt"),
    ])
    #expect(r.status == 1)
    #expect(v["hangClass"]?.string == "fork-from-multithreaded-parent")
    // The children forked from the two-threaded spawner are the stuck terminals.
    let terminals = (v["terminal"]?.array ?? []).compactMap { $0["name"]?.string }
    #expect(terminals.contains("spawner_0_errorer_0"))
    #expect(terminals.contains("spawner_0_errorer_1"))
  }

  @Test(arguments: ["spawn", "fork", "forkserver"])
  func childExitStatusReachesTheVerdict(backend: String) throws {
    let (r, v) = try ToolProcess.verdict([
      "run", ToolProcess.fixtures + "/scenarios/crash-leaf.json", "--backend", backend, "--format", "json",
      "--run-dir", ToolProcess.runDir("st-\(backend)"),
    ])
    #expect(r.status == 0)
    let crasher = try #require(v["actors"]?.array?.first { $0["name"]?.string == "crasher" })
    #expect(crasher["exitStatus"]?.int == 7, "\(backend)")
    let s = ToolProcess.run([
      "run", ToolProcess.fixtures + "/scenarios/signal-leaf.json", "--backend", backend, "--format", "json",
      "--run-dir", ToolProcess.runDir("sig-\(backend)"),
    ])
    let w = try #require(s.json)
    let segv = try #require(w["actors"]?.array?.first { $0["name"]?.string == "segv" })
    #expect(segv["exitStatus"]?.int == Int64(139), "\(backend): 128 + SIGSEGV")
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test(arguments: ["spawn", "fork", "forkserver"])
  func childrenOfAKilledParentExitOnTheirOwn(backend: String) throws {
    let dir = ToolProcess.runDir("orphans-\(backend)")
    let (r, v) = try ToolProcess.verdict(["run", ToolProcess.fixtures + "/scenarios/parent-killed.json", "--backend", backend, "--format", "json", "--run-dir", dir])
    #expect(r.status == 0, "\(r.stdout)")
    for name in ["orphan_0", "orphan_1"] {
      let a = try #require(v["actors"]?.array?.first { $0["name"]?.string == name })
      #expect(a["reachedExit"]?.bool == true, "\(name) under \(backend)")
    }
    // They learnt it from the channel (EOF), not from a signal.
    let log = try ProbeLog.read(runDir: dir)
    let eofs = log.events.filter { $0.site == "msg_loop" && $0.event == "EOF" && $0.actor.hasPrefix("orphan") }
    #expect(eofs.count == 2)
  }

  @Test func forkServerParentsAreTheServer() throws {
    let dir = ToolProcess.runDir("fs-parent")
    let r = ToolProcess.run(["nested-multierrors", "--backend", "forkserver", "--depth", "0", "--run-dir", dir])
    #expect(r.status == 0)
    let log = try ProbeLog.read(runDir: dir)
    let server = try #require(log.events.first { $0.actor == "forkserver" }?.pid)
    let starts = log.events.filter { $0.site == "child_target" && $0.event == "ENTER" }
    #expect(starts.count == 7)
    #expect(starts.allSatisfy { $0.peer == server }, "every actor's OS parent is the fork server")
    #expect(ToolProcess.survivors().isEmpty)
  }

  /// The server raises its own priority when it may, so that spawns are
  /// served while actors keep the cores busy; its children must not keep it.
  @Test func forkServerChildrenRunAtTheTreesPriority() throws {
    let dir = ToolProcess.runDir("fs-nice")
    let r = ToolProcess.run(["nested-multierrors", "--backend", "forkserver", "--depth", "0", "--run-dir", dir])
    #expect(r.status == 0)
    #expect(ToolProcess.survivors().isEmpty)
    let log = try ProbeLog.read(runDir: dir)
    let mine = Syscalls.niceValue()
    let server = try #require(log.events.first { $0.actor == "forkserver" && $0.event == "UP" }?.detail)
    #expect(server.contains("nice=\(max(mine - 20, -20))") || server.contains("nice=\(mine) ("), "\(server)")
    // An actor cancelled before its spawn spec never reaches UP; the others do.
    let ups = log.events.filter { $0.site == "runtime" && $0.event == "UP" }
    #expect(ups.count >= 3)
    #expect(ups.allSatisfy { ($0.detail ?? "").hasSuffix(" nice=\(mine)") }, "\(ups.map { $0.detail ?? "" })")
  }

  /// A client that connects and then sends nothing must not block the
  /// others (tractor's mp_forkserver hang).
  @Test func forkServerServesOthersWhileOneClientIdles() throws {
    let server = try TestForkServer.start(tag: "fs-idle")
    defer { server.stop() }
    let name = server.name
    let dir = server.dir

    func connectToServer() -> Int32 {
      let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
      var a = sockaddr_un()
      a.sun_family = sa_family_t(AF_UNIX)
      let bytes = Array(name.utf8)
      withUnsafeMutableBytes(of: &a.sun_path) { p in for (i, c) in bytes.enumerated() { p[i + 1] = c } }
      let len = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
      let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, len) } }
      #expect(rc == 0)
      return fd
    }
    // Several idle clients first: connected, silent.
    let idle = (0..<3).map { _ in connectToServer() }
    defer { for f in idle { close(f) } }
    // Then real requests; each must be answered with a pid and a pidfd.
    var children: [(Int32, Int32, Int32)] = []
    for i in 0..<4 {
      let c = connectToServer()
      var pair: [Int32] = [-1, -1]
      #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0)
      let req = Array("{\"name\":\"probe_\(i)\",\"runDir\":\"\(dir)\"}".utf8)
      var one = [pair[1]]
      #expect(req.withUnsafeBytes { cs_send_with_fds(c, $0.baseAddress, $0.count, &one, 1) } > 0)
      close(pair[1])
      var pc = pollfd(fd: c, events: Int16(POLLIN), revents: 0)
      #expect(poll(&pc, 1, 10_000) == 1, "request \(i) was not answered while idle clients hold connections")
      var buf = [UInt8](repeating: 0, count: 256)
      var fds: [Int32] = [-1, -1]
      var n: Int32 = 0
      let got = cs_recv_with_fds(c, &buf, buf.count, &fds, 2, &n)
      #expect(got > 0 && n == 1)
      let v = try #require(try? JSONParser.parse(bytes: Array(buf[0..<max(0, got)])))
      let child = Int32(v["pid"]?.int ?? 0)
      #expect(child > 1)
      children.append((child, fds[0], pair[0]))
      close(c)
    }
    // Each child is a real actor: it connects back on its channel; closing
    // our end makes it give up and exit, which its pidfd shows.
    for (child, pidfd, ours) in children {
      var pc = pollfd(fd: ours, events: Int16(POLLIN), revents: 0)
      #expect(poll(&pc, 1, 10_000) == 1, "child \(child) did not connect back")
      close(ours)
      var pp = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
      #expect(poll(&pp, 1, 10_000) == 1, "child \(child) did not exit")
      close(pidfd)
    }
  }

  @Test func compareShowsCleanBackendsAndTheForkDivergence() throws {
    let (clean, v) = try ToolProcess.verdict(["compare", "--trials", "1", "--depth", "0", "--format", "json", "--run-dir", ToolProcess.runDir("cmp")])
    #expect(clean.status == 0)
    let rows = v["backends"]?.array ?? []
    #expect(rows.map { $0["backend"]?.string ?? "" } == ["spawn", "fork", "forkserver"])
    #expect(rows.allSatisfy { $0["clean"]?.int == 1 && $0["hang"]?.int == 0 })
    #expect(rows.allSatisfy { ($0["medianSpawnMsPerActor"]?.double ?? 0) > 0 })

    let (bad, w) = try ToolProcess.verdict([
      "compare", "--trials", "1", "--depth", "0", "--backends", "spawn,fork", "--fault", "fork-with-threads", "--timeout", "3",
      "--format", "json", "--run-dir", ToolProcess.runDir("cmp-fwt"),
    ])
    #expect(bad.status == 1)
    let fork = try #require(w["backends"]?.array?.first { $0["backend"]?.string == "fork" })
    #expect(fork["hang"]?.int == 1)
    let d = try #require(fork["firstDivergence"])
    #expect(d["actor"]?.string?.contains("errorer") == true)
    #expect(d["this"]?.array?.isEmpty == true, "the child never reached its first probe")

    let text = ToolProcess.run(["compare", "--trials", "1", "--depth", "0", "--backends", "fork,forkserver", "--run-dir", ToolProcess.runDir("cmp-t")])
    #expect(text.stdout.contains("backend      trials  clean  hang"))
    #expect(text.stdout.contains("forkserver vs fork"))
    #expect(ToolProcess.survivors().isEmpty)
  }
}

/// Fixtures under every backend, and the tool interrupted mid-run.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FixtureAndSignalTests {
  static let cleanFixtures = ["nested-multierrors.json", "crash-leaf.json", "all-return.json", "signal-leaf.json", "parent-killed.json"]

  @Test(arguments: cleanFixtures, ["spawn", "fork", "forkserver"])
  func everyCleanFixtureIsCleanUnderEveryBackend(fixture: String, backend: String) throws {
    let (r, v) = try ToolProcess.verdict([
      "run", ToolProcess.fixtures + "/scenarios/" + fixture, "--backend", backend, "--format", "json",
      "--run-dir", ToolProcess.runDir("fx-\(backend)"),
    ])
    #expect(r.status == 0, "\(fixture) under \(backend): \(v["unexpected"]?.compact ?? "")")
    #expect(v["outcome"]?.string == "clean")
  }

  @Test(arguments: ["spawn", "fork", "forkserver"])
  func mixedBehavioursHangAtTheSameActorUnderEveryBackend(backend: String) throws {
    let (r, v) = try ToolProcess.verdict([
      "run", ToolProcess.fixtures + "/scenarios/mixed-behaviours.json", "--backend", backend, "--format", "json", "--no-stacks",
      "--run-dir", ToolProcess.runDir("mixed-\(backend)"),
    ])
    #expect(r.status == 1)
    #expect(v.chainNames(try #require(v["waitChains"]?.array?.first)) == ["root", "b"])
    #expect(v["hangClass"]?.string == "uncancellable-task")
  }

  /// Ctrl-C of the tool: the tree is killed and reaped, and the tool exits 130.
  @Test func interruptedToolKillsTheTree() throws {
    _ = ToolProcess.setUp
    let dir = ToolProcess.runDir("sigint")
    let out = dir + "/out.txt"
    let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var pid: pid_t = 0
    let argv = [ToolProcess.tool, "run", ToolProcess.fixtures + "/scenarios/ignore-cancel.json", "--timeout", "120", "--run-dir", dir, "--no-stacks"]
    let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    #expect(cs_spawn(&pid, ToolProcess.tool, cargs, environ, -1, 3, fd, fd, CS_SPAWN_NEW_PGROUP) == 0)
    for p in cargs { free(p) }
    close(fd)
    defer { #expect(ToolProcess.survivors().isEmpty) }
    // Wait (bounded) until the whole tree exists: four actors have probe logs.
    #expect(SpawnedTree.waitUntil(timeoutMs: 30_000) { Syscalls.listDirectory(dir + "/probes").count >= 5 })
    #expect(ToolProcess.liveDescendants().count >= 3, "the tool and its tree are running")
    kill(pid, SIGINT)
    var st: Int32 = 0
    #expect(SpawnedTree.waitUntil(timeoutMs: 30_000) { waitpid(pid, &st, WNOHANG) == pid })
    #expect(WaitStatus(raw: st) == .exited(130))
    #expect(ToolProcess.liveDescendants().isEmpty, "nothing of the tree is left")
    let text = String(decoding: Syscalls.readFile(out) ?? [], as: UTF8.self)
    #expect(text.contains("interrupted by signal 2"), "\(text)")
  }
}
