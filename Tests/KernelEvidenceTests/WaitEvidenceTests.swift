import Glibc
import KernelEvidence
import Testing
import TestSupport

/// Issue 10's kernel facts: wake-up channels (K1), real leaks (K2), the
/// multiprocessing sentinel (K3), typed timeouts (K4), on live python3 trees.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct WaitEvidenceTests {
  /// Runs `script` (prints "ready PID..."), waits until `pid(index)` blocks in
  /// one of `syscalls`, and hands the snapshot of the tree to `check`.
  func withTree(
    _ script: String, blocked index: Int = 0, in syscalls: Set<Int>,
    _ check: (KernelSnapshot, [Int32]) throws -> Void
  ) throws {
    let tree = try #require(SpawnedTree(python: script), "python3 is needed")
    defer {
      tree.track(KernelEvidence.descendants(of: tree.pid))
      tree.cleanup()
      #expect(tree.allGone())
    }
    let pids = try #require(tree.readReady())
    #expect(SpawnedTree.waitForSyscall(pids[index], syscalls))
    let s = KernelEvidence.snapshot(pids: [tree.pid], includeDescendants: true)
    tree.track(s.processes.map(\.pid))
    try check(s, pids)
  }

  /// asyncio's self-pipe shape: epoll on one end of a socketpair whose other
  /// end only this process holds, plus an eventfd. No edge, no note that a
  /// peer is held outside the set, both marked wake-up; the timeout decoded.
  @Test func epollOnItsOwnSocketpairIsAWakeupChannel() throws {
    let script = """
      import os, select, socket
      a, b = socket.socketpair()
      e = os.eventfd(0)
      ep = select.epoll()
      ep.register(a.fileno(), select.EPOLLIN)
      ep.register(e, select.EPOLLIN)
      print("ready", os.getpid(), flush=True)
      ep.poll(3600)
      """
    try withTree(script, in: [232, 281]) { s, pids in
      let p = try #require(s.process(pids[0]))
      let watched = try #require(p.pollSet)
      #expect(watched.count == 2)
      for fd in watched { #expect(p.fd(fd)?.wakeup == true, "fd \(fd) \(p.fd(fd)?.link ?? "-")") }
      #expect(s.edges.isEmpty)
      #expect(!(s.unexplained[pids[0]] ?? "").contains("outside set"), "\(s.unexplained[pids[0]] ?? "")")
      #expect(p.threads.first?.timeout == .after(ms: 3_600_000))
    }
  }

  /// A socket end whose other end the waiter holds AND another process holds
  /// is no wake-up channel (K2: the leak shape of inherit-fds).
  @Test func peerHeldByItselfAndAnotherIsNoWakeup() throws {
    let script = """
      import os, select, socket, time
      a, b = socket.socketpair()
      c = os.fork()
      if c == 0:
          select.select([a], [], [])
          os._exit(0)
      print("ready", c, os.getpid(), flush=True)
      time.sleep(60)
      """
    try withTree(script, in: [23, 270]) { s, pids in
      let child = try #require(s.process(pids[0]))
      let fd = try #require(child.pollSet?.first.flatMap { child.fd($0) })
      #expect(!fd.wakeup)
      #expect(Set(fd.peers.map(\.pid)) == [pids[0], pids[1]])
      #expect(s.edges.contains { $0.from == pids[0] && $0.to == pids[1] && $0.kind == .dataFrom })
      #expect(child.threads.first?.timeout == Timeout.none)
    }
  }

  /// multiprocessing's Popen sentinel: the parent reads a pipe only its
  /// spawn child writes; EOF comes at the child's exit, so it is an exit wait.
  @Test func readOfASpawnChildsSentinelWaitsForItsExit() throws {
    let script = """
      import multiprocessing as mp, os, time
      if __name__ == "__main__":
          p = mp.get_context("spawn").Process(target=time.sleep, args=(60,))
          p.start()
          print("ready", os.getpid(), p.pid, flush=True)
          os.read(p.sentinel, 1)
      """
    try withTree(script, in: [0]) { s, pids in
      let e = s.edges.first { $0.from == pids[0] && $0.to == pids[1] }
      #expect(e?.kind == .exitOf, "\(s.edges) \(s.unexplained) \(s.processes.map { ($0.pid, $0.cmdline) })")
      #expect(e?.evidence.contains("a multiprocessing sentinel, EOF at its exit") == true)
    }
  }

  /// Timeouts read from the caller's memory: a relative timeval (select), a
  /// relative timespec (ppoll), an absolute CLOCK_MONOTONIC deadline
  /// (time.sleep is clock_nanosleep TIMER_ABSTIME on 3.11) and poll's ms.
  @Test(arguments: [
    ("import select; select.select([], [], [], 50)", Set([23, 270]), 50_000),
    ("import time; time.sleep(40)", Set([35, 230]), 40_000),
    ("import select; p = select.poll(); p.poll(30000)", Set([7, 271]), 30_000),
  ])
  func timedCallsDecodeTheirTimeout(call: String, syscalls: Set<Int>, ms: Int64) throws {
    let script = "import os\nprint('ready', os.getpid(), flush=True)\n" + call + "\n"
    try withTree(script, in: syscalls) { s, pids in
      let t = try #require(s.process(pids[0])?.threads.first?.timeout)
      let got = try #require(t.finiteMs)
      // Read some ms after the call started: at most the full timeout, and
      // not far below it (the bound is loose: the machine may be loaded).
      #expect(got <= ms && got > ms - 20_000, "\(t)")
    }
  }

  @Test func trioCapIsInfinite() {
    #expect(Timeout.after(ms: 86_400_000).isInfinite)
    #expect(Timeout.after(ms: 3_600_000).finiteMs == 3_600_000)
    #expect(Timeout.ms(-1) == Timeout.none)
    #expect(Timeout.after(ms: 86_400_000).description.contains("trio's 24 h cap"))
  }

  /// A futex wait with an absolute monotonic deadline, decoded from fake
  /// memory: the time left, rounded up to whole ms.
  @Test func futexBitsetDeadlineIsTimeLeft() {
    let deadline: Int64 = 10_000_000_000 + 2_500_000  // 10.0025 s
    var mem = [UInt8](repeating: 0, count: 16)
    for i in 0..<8 { mem[i] = UInt8((deadline / 1_000_000_000) >> (8 * i) & 0xff) }
    for i in 0..<8 { mem[8 + i] = UInt8((deadline % 1_000_000_000) >> (8 * i) & 0xff) }
    let sc = SyscallInfo(number: 202, args: [0x1000, 0x89, 0, 0x2000, 0, 0xffff_ffff])
    let t = Timeout.decode(sc, readMemory: { a, n in a == 0x2000 && n == 16 ? mem : nil }, nowNs: { $0 == 1 ? 9_000_000_000 : nil })
    #expect(t == .after(ms: 1003))
  }
}
