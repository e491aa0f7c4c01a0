import Glibc
import KernelEvidence
import Testing
import TestSupport

private let sleepNRs: Set<Int> = [35, 230, 23, 270, 7]  // time.sleep across Python versions

private func hasEdge(_ s: KernelSnapshot, _ from: Int32, _ kind: WaitKind, _ to: Int32) -> Bool {
  s.edges.contains { $0.from == from && $0.to == to && $0.kind == kind }
}

/// Runs `script`, whose parent prints "ready PARENT CHILD" and then sleeps;
/// waits until the child blocks in one of `childSyscalls`, snapshots the pair
/// and hands it to `check`. Without python3 the test is skipped. The tree is
/// killed and reaped afterwards, and must be gone.
private func withBlockedChild(
  _ script: String, childIn childSyscalls: Set<Int>, _ check: (KernelSnapshot, _ parent: Int32, _ child: Int32) throws -> Void
) throws {
  let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
  defer { tree.cleanup(); #expect(tree.allGone()) }
  let pids = try #require(tree.readReady())
  let (parent, child) = (pids[0], pids[1])
  #expect(SpawnedTree.waitForSyscall(child, childSyscalls))
  #expect(SpawnedTree.waitForSyscall(parent, sleepNRs))
  try check(KernelEvidence.snapshot(pids: [parent], includeDescendants: true), parent, child)
}

@Suite(.serialized, .timeLimit(.minutes(2)))
struct KernelEvidenceTests {
  @Test func parentWaitingForSleepingChild() throws {
    let script = """
      import os, time
      c = os.fork()
      if c == 0:
          time.sleep(60); os._exit(0)
      print("ready", os.getpid(), c, flush=True)
      os.waitpid(c, 0)
      """
    let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
    defer { tree.cleanup(); #expect(tree.allGone()) }
    let pids = try #require(tree.readReady())
    let (parent, child) = (pids[0], pids[1])
    #expect(SpawnedTree.waitForSyscall(parent, [61]))
    #expect(SpawnedTree.waitForSyscall(child, sleepNRs))

    #expect(KernelEvidence.descendants(of: parent) == [child])
    let s = KernelEvidence.snapshot(pids: [parent], includeDescendants: true)
    #expect(s.processes.map(\.pid) == [parent, child])
    #expect(hasEdge(s, parent, .exitOf, child))
    #expect(s.chains == [[parent, child]])
    #expect(s.terminals == [child])
    #expect(s.cycles.isEmpty)
    #expect(s.unexplained[child]?.contains("sleep") == true)
    #expect(s.unexplained[parent] == nil)
    let text = KernelSnapshotText.render(s)
    #expect(text.contains("waits-exit-of"))
    #expect(KernelSnapshotDot.render(s).contains("p\(parent) -> p\(child)"))
  }

  @Test func childBlockedOnFullPipeFormsCycle() throws {
    let script = PythonTrees.fullPipe
    let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
    defer { tree.cleanup(); #expect(tree.allGone()) }
    let pids = try #require(tree.readReady())
    let (parent, child) = (pids[0], pids[1])
    #expect(SpawnedTree.waitForSyscall(parent, [61]))
    #expect(SpawnedTree.waitForSyscall(child, [1]))

    let s = KernelEvidence.snapshot(pids: [parent], includeDescendants: true)
    #expect(hasEdge(s, child, .roomFrom, parent))
    #expect(hasEdge(s, parent, .exitOf, child))
    #expect(s.cycles == [[parent, child]])
    #expect(s.terminals.isEmpty)
    let room = s.edges.first { $0.kind == .roomFrom }
    #expect(room?.evidence.contains("pipe:[") == true)
    #expect(room?.evidence.contains("readers: \(parent) fd") == true)
    // fd 1 is also a write-only pipe (to the test runner), so look for the one the parent reads.
    #expect(s.process(child)?.fds.contains { $0.writeOnly && $0.peers.contains { $0.pid == parent } } == true)
    print(KernelSnapshotText.render(s))
  }

  @Test func connectBlockedOnFullBacklog() throws {
    let script = """
      import os, socket, time
      name = "\\0ke-test-%d" % os.getpid()
      l = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      l.bind(name)
      l.listen(0)
      c = os.fork()
      if c == 0:
          l.close()
          held = []
          for i in range(8):
              s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
              s.setblocking(False)
              try:
                  s.connect(name); held.append(s)
              except BlockingIOError:
                  s.close(); break
          s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
          s.connect(name)
          os._exit(0)
      print("ready", os.getpid(), c, flush=True)
      time.sleep(60)
      """
    try withBlockedChild(script, childIn: [42]) { s, parent, child in
      #expect(hasEdge(s, child, .acceptFrom, parent))
      let e = s.edges.first { $0.kind == .acceptFrom }
      #expect(e?.evidence.contains("@ke-test-\(parent)") == true)
      #expect(s.process(child)?.threads.first?.connectTarget == "@ke-test-\(parent)")
      #expect(s.chains == [[child, parent]])
      #expect(s.terminals == [parent])
      print(KernelSnapshotText.render(s))
    }
  }

  @Test func pollOnSocketpairPeerHeldByParent() throws {
    let script = """
      import os, socket, select, time
      a, b = socket.socketpair()
      c = os.fork()
      if c == 0:
          a.close()
          p = select.poll()
          p.register(b.fileno(), select.POLLIN)
          p.poll()
          os._exit(0)
      b.close()
      print("ready", os.getpid(), c, flush=True)
      time.sleep(60)
      """
    try withBlockedChild(script, childIn: [7]) { s, parent, child in
      #expect(hasEdge(s, child, .dataFrom, parent))
      let cp = try #require(s.process(child))
      let pollSet = try #require(cp.pollSet)
      #expect(pollSet.count == 1)
      let sockFD = cp.fd(pollSet[0])
      if case .socket = sockFD?.kind {} else { Issue.record("polled fd is not a socket: \(String(describing: sockFD))") }
      #expect(sockFD?.peers.contains { $0.pid == parent } == true)
      #expect(s.edges.first?.evidence.contains("socket:[") == true)
    }
  }

  /// tractor's own IPC is TCP over loopback: a recv on a connection whose
  /// other end another process of the tree holds must resolve like a socketpair.
  @Test func recvOnLoopbackTCPWaitsForThePeersHolder() throws {
    let script = """
      import os, socket, time
      l = socket.socket()
      l.bind(("127.0.0.1", 0))
      l.listen(1)
      port = l.getsockname()[1]
      c = os.fork()
      if c == 0:
          l.close()
          s = socket.create_connection(("127.0.0.1", port))
          s.recv(1)
          os._exit(0)
      conn, _ = l.accept()
      print("ready", os.getpid(), c, flush=True)
      time.sleep(60)
      """
    try withBlockedChild(script, childIn: [45]) { s, parent, child in  // recvfrom
      // The parent's listener is a listener, not a connection with a peer.
      let listener = try #require(s.process(parent)?.fds.first { $0.socketName?.hasSuffix(" (listening)") == true })
      #expect(listener.socketState == 10)
      #expect(listener.peerInode == nil)
      let port = try #require(listener.socketName?.split(separator: " ")[1].split(separator: ":").last)
      #expect(hasEdge(s, child, .dataFrom, parent), "\(s.edges) \(s.unexplained)")
      let e = s.edges.first { $0.from == child }
      #expect(e?.evidence.contains("tcp 127.0.0.1:") == true, "\(e?.evidence ?? "")")
      #expect(e?.evidence.contains("-> 127.0.0.1:\(port)") == true, "\(e?.evidence ?? "")")
      #expect(s.chains == [[child, parent]])
      #expect(s.terminals == [parent])
    }
  }

  /// poll(POLLOUT) and epoll(EPOLLOUT) on a full socket wait for room from
  /// the peer's holder, not for data.
  @Test(arguments: ["poll", "epoll"])
  func waitForRoomOnAFullSocketIsRoomFrom(api: String) throws {
    let wait = api == "poll"
      ? "p = select.poll(); p.register(a.fileno(), select.POLLOUT); p.poll()"
      : "e = select.epoll(); e.register(a.fileno(), select.EPOLLOUT); e.poll()"
    let script = """
      import os, socket, select, time
      a, b = socket.socketpair()
      c = os.fork()
      if c == 0:
          b.close()
          a.setblocking(False)
          try:
              while True: a.send(b"x" * 65536)
          except BlockingIOError:
              pass
          \(wait)
          os._exit(0)
      a.close()
      print("ready", os.getpid(), c, flush=True)
      time.sleep(60)
      """
    try withBlockedChild(script, childIn: api == "poll" ? [7] : [232, 281, 441]) { s, parent, child in
      #expect(hasEdge(s, child, .roomFrom, parent), "\(s.edges)")
      #expect(!hasEdge(s, child, .dataFrom, parent), "\(s.edges)")
    }
  }

  /// A FIFO opened O_RDWR holds both ends: its holder is a writer for a
  /// reader blocked on the same FIFO.
  @Test func readOnAFIFOWhoseWriterOpenedItReadWrite() throws {
    let script = """
      import os, tempfile, time
      d = tempfile.mkdtemp()
      path = os.path.join(d, "fifo")
      os.mkfifo(path)
      rw = os.open(path, os.O_RDWR)
      r = os.open(path, os.O_RDONLY)
      os.unlink(path); os.rmdir(d)
      c = os.fork()
      if c == 0:
          os.close(rw)
          os.read(r, 1)
          os._exit(0)
      os.close(r)
      print("ready", os.getpid(), c, flush=True)
      time.sleep(60)
      """
    try withBlockedChild(script, childIn: [0]) { s, parent, child in  // read
      #expect(hasEdge(s, child, .dataFrom, parent), "\(s.edges) \(s.unexplained)")
      #expect(s.terminals == [parent])
    }
  }

  @Test func epollOnPidfdAndPipe() throws {
    let script = """
      import os, select, time
      r, w = os.pipe()
      c = os.fork()
      if c == 0:
          os.close(r)
          time.sleep(60); os._exit(0)
      os.close(w)
      pfd = os.pidfd_open(c)
      ep = select.epoll()
      ep.register(pfd, select.EPOLLIN)
      ep.register(r, select.EPOLLIN)
      print("ready", os.getpid(), c, flush=True)
      ep.poll()
      """
    let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
    defer { tree.cleanup(); #expect(tree.allGone()) }
    let pids = try #require(tree.readReady())
    let (parent, child) = (pids[0], pids[1])
    #expect(SpawnedTree.waitForSyscall(parent, [232, 281, 441]))
    #expect(SpawnedTree.waitForSyscall(child, sleepNRs))

    let s = KernelEvidence.snapshot(pids: [parent], includeDescendants: true)
    #expect(hasEdge(s, parent, .exitOf, child))
    #expect(hasEdge(s, parent, .dataFrom, child))
    let exitEdge = s.edges.first { $0.kind == .exitOf }
    #expect(exitEdge?.evidence.contains("Pid: \(child)") == true)
    #expect(s.process(parent)?.pollSet?.count == 2)
    #expect(s.chains == [[parent, child]])
  }

  @Test func zombieIsReportedWithoutCrashing() throws {
    let script = """
      import os, time
      c = os.fork()
      if c == 0:
          os._exit(0)
      print("ready", os.getpid(), c, flush=True)
      time.sleep(60)
      """
    let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
    defer { tree.cleanup(); #expect(tree.allGone()) }
    let pids = try #require(tree.readReady())
    let (parent, child) = (pids[0], pids[1])
    #expect(SpawnedTree.waitUntil { SpawnedTree.state(child) == "Z" })
    #expect(SpawnedTree.waitForSyscall(parent, sleepNRs))

    let s = KernelEvidence.snapshot(pids: [parent], includeDescendants: true)
    let z = try #require(s.process(child))
    #expect(z.state == "Z")
    #expect(z.fds.isEmpty)
    // A zombie is a consequence of its parent (K6): listed, never a terminal.
    #expect(s.zombies[child] == parent)
    #expect(s.unexplained[child] == nil)
    #expect(!s.terminals.contains(child))
    #expect(s.edges.isEmpty)
  }

  @Test func vanishingAndDeadPidsAreDropped() throws {
    // A process that exits on its own while we snapshot it, repeatedly, to hit the races.
    for _ in 0..<5 {
      let tree = try #require(SpawnedTree(argv: ["/bin/sh", "-c", "exit 0"]), "could not spawn /bin/sh")
      let s = KernelEvidence.snapshot(pids: [tree.pid], includeDescendants: true)
      #expect(s.processes.count <= 1)
      tree.cleanup()
      #expect(tree.allGone())
      // Now it is reaped: the pid is dead.
      let dead = KernelEvidence.snapshot(pids: [tree.pid], includeDescendants: true)
      #expect(dead.processes.isEmpty)
      #expect(dead.edges.isEmpty)
    }
    #expect(KernelEvidence.descendants(of: 0x3fff_fff0).isEmpty)
    #expect(KernelEvidence.snapshot(pids: [-5, 0], includeDescendants: true).processes.isEmpty)
  }

  /// Its cost is a `make bench` row, not an assertion here (no wall-clock
  /// assertions in tests).
  @Test func seventeenProcessChainIsOneChain() throws {
    let script = """
      import os, time
      def chain(n):
          if n == 0:
              print("ready", flush=True)
              time.sleep(60); os._exit(0)
          c = os.fork()
          if c == 0:
              chain(n - 1); os._exit(0)
          os.waitpid(c, 0)
      chain(16)
      """
    let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
    defer { tree.cleanup(); #expect(tree.allGone()) }
    _ = try #require(tree.readLine())
    #expect(SpawnedTree.waitUntil { KernelEvidence.descendants(of: tree.pid).count == 16 })
    let all = [tree.pid] + KernelEvidence.descendants(of: tree.pid)
    tree.track(all)
    #expect(SpawnedTree.waitUntil {
      all.dropLast().allSatisfy { SpawnedTree.syscallNumber($0) == 61 }
        && sleepNRs.contains(SpawnedTree.syscallNumber(all.last!) ?? -1)
    })

    let s = KernelEvidence.snapshot(pids: [tree.pid], includeDescendants: true)
    #expect(s.processes.count == 17)
    #expect(s.edges.count == 16)
    #expect(s.chains == [all])
    #expect(s.terminals == [all.last!])
  }

  @Test func wholeMachineSnapshotIsSafe() {
    // Every live process, threads and fds included: exercises the parsers on real data.
    let s = KernelEvidence.snapshot(pids: [1], includeDescendants: true)
    print("whole machine: \(s.processes.count) processes, \(s.edges.count) edges, \(s.elapsedNs / 1000) us")
    #expect(!s.processes.isEmpty)
    #expect(s.processes.map(\.pid) == s.processes.map(\.pid).sorted())
    #expect(!KernelSnapshotText.render(s).isEmpty)
    #expect(KernelSnapshotDot.render(s).hasPrefix("digraph"))
  }
}
