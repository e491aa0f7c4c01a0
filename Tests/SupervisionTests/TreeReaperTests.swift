import Glibc
import Supervision
import SystemCore
import Testing

/// The tree kill must end processes that left the tree's shape: one that
/// started its own session (a process-group kill misses it) and one whose
/// parent exited (reparented to us, the subreaper, so no longer below the
/// command). Checked through pidfds the test opens before the kill, not
/// through the reaper's own /proc walk.
@Suite(.timeLimit(.minutes(1)))
struct TreeReaperTests {
  // stderr to /dev/null: a survivor must not hold the test runner's pipe.
  static let script = """
    exec 2>/dev/null
    setsid sleep 600 & echo "escapee $!"
    /bin/sh -c 'sleep 600 & echo "orphan $!"'
    sleep 600 & echo "child $!"
    echo ready
    wait
    """

  @Test func reapsSetsidEscapeeAndOrphan() throws {
    #expect(TreeReaper.becomeSubreaper())
    var lines: [String] = []
    var shell = try launchUntilReady(Self.script, newProcessGroup: true, lines: &lines)
    var pids: [String: Int32] = ["shell": shell.pid]
    for line in lines {
      let parts = line.split(separator: " ")
      if parts.count == 2, let p = Int32(parts[1]) { pids[String(parts[0])] = p }
    }
    try #require(pids.count == 4, "the script reported \(pids)")
    let escapee = pids["escapee"]!
    let orphan = pids["orphan"]!
    // The shapes this test is about, checked before the kill. setsid(1)
    // calls setsid() only after the shell forked it and printed its pid:
    // wait for that state (bounded), not for time.
    var polls = 0
    while getsid(escapee) == getsid(shell.pid) && polls < 5000 {
      _ = poll(nil, 0, 1)
      polls += 1
    }
    #expect(getsid(escapee) != getsid(shell.pid), "the escapee has its own session")
    #expect(parentOf(orphan) == getpid(), "the orphan was reparented to us")

    // pidfds opened by the test, before the kill: they name these exact
    // processes whatever happens to their pids afterwards.
    let watched: [(name: String, fd: Int32)] = pids.sorted { $0.key < $1.key }.map {
      (name: $0.key, fd: (try? Syscalls.pidfdOpen($0.value))?.take() ?? -1)
    }
    defer {
      // Whatever the outcome, nothing of this test outlives it.
      for w in watched where w.fd >= 0 {
        Syscalls.pidfdSignal(w.fd, SIGKILL)
        _ = FileDescriptor(adopting: w.fd)  // closes it
      }
      TreeReaper.reapAll(boundMs: 2000)
    }
    for w in watched { #expect(w.fd >= 0, "pidfd_open \(w.name)") }

    let killed = TreeReaper.tearDown()
    #expect(Set(killed).isSuperset(of: pids.values))

    for w in watched {
      let fd = w.fd
      guard fd >= 0 else { continue }
      let rev = ProcessControl.poll([(fd, Int16(POLLIN))], timeoutMs: 0)
      #expect(rev[0] & Int16(POLLIN) != 0, "\(w.name) has exited")
      // Exited and reaped: waitid on a child of ours that is still a zombie
      // would succeed; ECHILD means reaped (or never ours).
      #expect(throws: SystemError.self, "\(w.name) was reaped") { _ = try ProcessControl.reap(pidfd: fd) }
    }
    #expect(shell.poll() == .signaled(SIGKILL))
    #expect(ProcessList.children(of: getpid()).isEmpty)
  }

  /// The ladder as data: a child that ends on SIGTERM stops at that step;
  /// one that ignores it is escalated to SIGKILL.
  @Test func ladderStopsAtTheStepThatWorksAndEscalatesOtherwise() throws {
    #expect(TreeReaper.becomeSubreaper())
    defer { TreeReaper.tearDown() }
    let ladder = TeardownLadder([.signal(SIGTERM), .wait(ms: 2000)], reapBoundMs: 2000)
    #expect(ladder.steps.last == .escalate)

    var polite = try ChildLauncher.launch(LaunchSpec(executable: "/bin/sleep", arguments: ["sleep", "60"]))
    #expect(polite.tearDown(ladder) == .signaled(SIGTERM))

    // It says "ready" once SIGTERM is ignored, so the signal cannot arrive first.
    var lines: [String] = []
    var stubborn = try launchUntilReady("trap '' TERM; echo ready; exec sleep 60", lines: &lines)
    #expect(lines.contains("ready"))
    #expect(stubborn.tearDown(ladder) == .signaled(SIGKILL))
  }

  /// `/bin/sh -c script` with its stdout on a pipe, and the lines it printed
  /// up to "ready" (or all of them when the 10 s bound passes first).
  func launchUntilReady(_ script: String, newProcessGroup: Bool = false, lines: inout [String]) throws -> OwnedChild {
    let pipe = try Syscalls.pipe()
    let output = pipe.first
    var child: OwnedChild
    do {
      let writeEnd = pipe.second
      child = try ChildLauncher.launch(
        LaunchSpec(
          executable: "/bin/sh", arguments: ["/bin/sh", "-c", script],
          fds: [.inherit, .parent(writeEnd.rawValue), .inherit], newProcessGroup: newProcessGroup))
    }  // our copy of the write end closes here: EOF when the shell's writers are gone
    lines = readLines(output, until: "ready", timeoutMs: 10_000)
    return child
  }

  /// Lines from `fd` until one equals `last`, or the bound passes.
  func readLines(_ fd: borrowing FileDescriptor, until last: String, timeoutMs: Int) -> [String] {
    let deadline = Syscalls.monotonicNs() + UInt64(timeoutMs) * 1_000_000
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while Syscalls.monotonicNs() < deadline {
      let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
      if lines.contains(last) { return lines }
      guard ProcessControl.poll([(fd.rawValue, Int16(POLLIN))], timeoutMs: 100)[0] != 0 else { continue }
      let n = (try? chunk.withUnsafeMutableBytes { try fd.read(into: $0) }) ?? 0
      if n <= 0 { break }
      bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
  }

  /// The ppid field of /proc/PID/stat.
  func parentOf(_ pid: Int32) -> Int32? {
    guard let b = Syscalls.readFile("/proc/\(pid)/stat"), let close = b.lastIndex(of: UInt8(ascii: ")")) else { return nil }
    let fields = String(decoding: b[(close + 2)...], as: UTF8.self).split(separator: " ")
    return fields.count > 1 ? Int32(fields[1]) : nil
  }
}
