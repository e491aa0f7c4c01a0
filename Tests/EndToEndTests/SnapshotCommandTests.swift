import Glibc
import MiniJSON
import Testing

/// `tractor-diag snapshot` against small real trees of python3 processes.
/// Each tree runs in its own process group; cleanup SIGKILLs the group and reaps.
@Suite(.serialized)
struct SnapshotCommandTests {
  // time.sleep across Python versions: nanosleep, clock_nanosleep, select, pselect6, poll.
  private static let sleepNRs: Set<Int> = [35, 230, 23, 270, 7]

  @Test func fullPipeIsACycleWithStacks() throws {
    let script = """
      import os
      r, w = os.pipe()
      c = os.fork()
      if c == 0:
          os.close(r)
          os.write(w, b"x" * 200 * 1024)
          os._exit(0)
      os.close(w)
      print("ready", os.getpid(), c, flush=True)
      os.waitpid(c, 0)
      """
    guard let tree = SnapTree(python: script) else { return }  // no python3: skip
    defer {
      tree.cleanup()
      #expect(ToolProcess.survivors().isEmpty)
    }
    let pids = try #require(tree.readReady())
    let (parent, child) = (pids[0], pids[1])
    #expect(SnapTree.waitForSyscall(parent, [61]))
    #expect(SnapTree.waitForSyscall(child, [1]))

    // Only run with stacks on this tree: interrupting the blocked write(2) may end it short.
    let r = ToolProcess.run(["snapshot", "--tree", "--format", "json", "\(parent)"])
    #expect(r.status == 0, "\(r.stderr)")
    let v = try #require(r.json, "stdout was not JSON: \(r.stdout) \(r.stderr)")
    let procs = v["processes"]?.array ?? []
    #expect(procs.compactMap { $0["pid"]?.int } == [Int64(parent), Int64(child)])
    let edges = v["edges"]?.array ?? []
    func hasEdge(_ from: Int32, _ kind: String, _ to: Int32) -> Bool {
      edges.contains { $0["from"]?.int == Int64(from) && $0["to"]?.int == Int64(to) && $0["kind"]?.string == kind }
    }
    #expect(hasEdge(child, "waits-room-from", parent))
    #expect(hasEdge(parent, "waits-exit-of", child))
    #expect(edges.allSatisfy { !($0["evidence"]?.string ?? "").isEmpty })
    let cycles = (v["cycles"]?.array ?? []).map { Set(($0.array ?? []).compactMap { $0.int }) }
    #expect(cycles == [Set([Int64(parent), Int64(child)])])
    #expect(v["terminals"]?.array?.isEmpty == true)
    #expect(v["elapsedMs"]?.double != nil)
    #expect(v["stacksMs"]?.double != nil)
    #expect(v["stacks"]?.bool == true)

    // The child's thread: write(2) decoded, its fd resolved to the parent's read end.
    let c = try #require(procs.first { $0["pid"]?.int == Int64(child) })
    #expect(c["ppid"]?.int == Int64(parent))
    #expect(c["comm"]?.string?.hasPrefix("python") == true)
    let thread = try #require(c["threads"]?.array?.first)
    let sc = try #require(thread["syscall"])
    #expect(sc["name"]?.string == "write")
    #expect(sc["number"]?.int == 1)
    let fdNum = try #require(sc["args"]?["fd"]?.int)
    #expect(sc["args"]?["count"]?.int == Int64(200 * 1024))
    #expect(thread["wchan"] != nil)
    let fd = try #require(c["fds"]?.array?.first { $0["fd"]?.int == fdNum })
    #expect(fd["kind"]?.string == "pipe")
    #expect(fd["end"]?.string == "write")
    #expect(fd["blocking"]?.bool == true)
    #expect(fd["peers"]?.array?.contains { $0["pid"]?.int == Int64(parent) } == true)
    // Stacks: frames when ptrace is allowed, otherwise a note; never a failure.
    let stack = thread["stack"]?.array
    let noted = thread["stackNote"]?.string != nil || c["stackNote"]?.string != nil
    #expect((stack?.isEmpty == false) || noted, "no stack and no note: \(thread)")
    if let frames = stack, !frames.isEmpty {
      #expect(frames.allSatisfy { ($0["pc"]?.string ?? "").hasPrefix("0x") && $0["text"]?.string != nil })
    }
    // Detached: neither process is left traced or stopped.
    for p in [parent, child] {
      let st = SnapTree.state(p)
      #expect(st != "t" && st != "T", "pid \(p) left in state \(String(describing: st))")
      #expect(SnapTree.tracerPid(p) ?? 0 == 0)
    }
  }

  @Test func waitChainEndsAtTheSleepingGrandchild() throws {
    let script = """
      import os, time
      c = os.fork()
      if c == 0:
          g = os.fork()
          if g == 0:
              time.sleep(120); os._exit(0)
          print("ready", os.getppid(), os.getpid(), g, flush=True)
          os.waitpid(g, 0); os._exit(0)
      os.waitpid(c, 0)
      """
    guard let tree = SnapTree(python: script) else { return }
    defer {
      tree.cleanup()
      #expect(ToolProcess.survivors().isEmpty)
    }
    let pids = try #require(tree.readReady())
    let (parent, child, grandchild) = (pids[0], pids[1], pids[2])
    #expect(SnapTree.waitForSyscall(parent, [61]))
    #expect(SnapTree.waitForSyscall(child, [61]))
    #expect(SnapTree.waitForSyscall(grandchild, Self.sleepNRs))
    let chain = [Int64(parent), Int64(child), Int64(grandchild)]

    // JSON, no stacks.
    let r = ToolProcess.run(["snapshot", "--tree", "--format", "json", "--no-stacks", "\(parent)"])
    #expect(r.status == 0, "\(r.stderr)")
    let v = try #require(r.json, "\(r.stdout) \(r.stderr)")
    #expect((v["processes"]?.array ?? []).compactMap { $0["pid"]?.int } == chain)
    #expect((v["chains"]?.array ?? []).map { ($0.array ?? []).compactMap { $0.int } } == [chain])
    #expect((v["terminals"]?.array ?? []).compactMap { $0.int } == [Int64(grandchild)])
    #expect(v["cycles"]?.array?.isEmpty == true)
    #expect(v["stacks"]?.bool == false)
    #expect((v["notes"]?.array ?? []).contains { ($0.string ?? "").contains("--no-stacks") })
    let edges = v["edges"]?.array ?? []
    #expect(edges.count == 2)
    #expect(edges.allSatisfy { $0["kind"]?.string == "waits-exit-of" })
    let g = try #require(v["processes"]?.array?.last)
    let gt = try #require(g["threads"]?.array?.first)
    #expect(Self.sleepNRs.contains(Int(gt["syscall"]?["number"]?.int ?? -1)))
    #expect(gt["stack"]?.isNull == true)
    #expect(v["unexplained"]?[String(grandchild)]?.string != nil)
    let p = try #require(v["processes"]?.array?.first)
    #expect(p["threads"]?.array?.first?["syscall"]?["args"]?["pid"]?.int == Int64(child))

    // Text, with stacks named by llvm-symbolizer: the answer comes first.
    let t = ToolProcess.run(["snapshot", "--tree", "--symbolize", "\(parent)"])
    #expect(t.status == 0, "\(t.stderr)")
    let text = t.stdout
    let chainLine = "chain: \(parent) python3 -> \(child) python3 -> \(grandchild) python3"
    let chainAt = try #require(text.firstRange(of: chainLine), "\(text)")
    let ends = try #require(text.firstRange(of: "ends at \(grandchild) python3"), "\(text)")
    let procsAt = try #require(text.firstRange(of: "\nprocesses:\n"), "\(text)")
    let stacksAt = try #require(text.firstRange(of: "\nnative stacks:\n"), "\(text)")
    #expect(chainAt.lowerBound < ends.lowerBound)
    #expect(ends.lowerBound < procsAt.lowerBound)
    #expect(procsAt.lowerBound < stacksAt.lowerBound)
    #expect(text.contains("wait4(pid=\(child)"))
    #expect(text.contains("native stacks of pid \(grandchild)"))

    // Dot.
    let d = ToolProcess.run(["snapshot", "--tree", "--format", "dot", "\(parent)"])
    #expect(d.status == 0, "\(d.stderr)")
    #expect(d.stdout.contains("digraph"))
    #expect(d.stdout.contains("p\(parent) -> p\(child)"))
    #expect(d.stdout.contains("p\(child) -> p\(grandchild)"))

    // Without --tree only the pid itself: its edge leaves the set.
    let one = ToolProcess.run(["snapshot", "--format", "json", "--no-stacks", "\(child)"])
    let o = try #require(one.json, "\(one.stdout) \(one.stderr)")
    #expect((o["processes"]?.array ?? []).compactMap { $0["pid"]?.int } == [Int64(child)])
    #expect(o["edges"]?.array?.isEmpty == true)
  }

  @Test func processesExitingDuringTheSnapshotDoNotBreakIt() throws {
    // A parent that keeps forking children that exit at once: descendants vanish mid-read.
    let script = """
      import os
      print("ready", os.getpid(), flush=True)
      while True:
          c = os.fork()
          if c == 0:
              os._exit(0)
          os.waitpid(c, 0)
      """
    guard let tree = SnapTree(python: script) else { return }
    defer {
      tree.cleanup()
      #expect(ToolProcess.survivors().isEmpty)
    }
    let pid = try #require(tree.readReady()?.first)
    for format in ["json", "text"] {
      let r = ToolProcess.run(["snapshot", "--tree", "--format", format, "\(pid)"])
      #expect(r.status == 0, "\(r.stderr)")
      if format == "json" {
        let v = try #require(r.json, "\(r.stdout) \(r.stderr)")
        #expect((v["processes"]?.array ?? []).contains { $0["pid"]?.int == Int64(pid) })
      } else {
        #expect(r.stdout.contains("pid \(pid) "))
      }
    }

    // A pid that has exited (and been reaped) before the run.
    let gone = try #require(SnapTree(python: "print('ready', flush=True)"))
    #expect(gone.readLine() == "ready")
    let goneAt = gone.pid
    #expect(gone.reap())
    gone.cleanup()
    let missing = ToolProcess.run(["snapshot", "\(goneAt)"])
    #expect(missing.status == 65)
    #expect(missing.stderr == "tractor-diag: no such process: \(goneAt)\n")
    #expect(missing.stdout.isEmpty)
    // Some exist: snapshot those, note the rest.
    let mixed = ToolProcess.run(["snapshot", "--format", "json", "--no-stacks", "\(goneAt)", "\(pid)"])
    #expect(mixed.status == 0, "\(mixed.stderr)")
    let m = try #require(mixed.json, "\(mixed.stdout) \(mixed.stderr)")
    #expect((m["processes"]?.array ?? []).compactMap { $0["pid"]?.int } == [Int64(pid)])
    #expect((m["notes"]?.array ?? []).contains { ($0.string ?? "").contains("no such process: \(goneAt)") })
  }

  @Test(arguments: ["abc", "0", "-5", "12x", "99999999999"])
  func badPidArgumentIsAUsageError(arg: String) {
    let r = ToolProcess.run(["snapshot", arg])
    #expect(r.status == 64)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("tractor-diag: "))
    #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(r.stderr)")
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test func noPidIsAUsageError() {
    let r = ToolProcess.run(["snapshot", "--tree"])
    #expect(r.status == 64)
    #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(r.stderr)")
  }
}

/// A python3 script started with posix_spawn in its own process group (POSIX_SPAWN_SETPGROUP),
/// stdout on a pipe. cleanup() SIGKILLs the group and every pid it learned, then reaps them.
private final class SnapTree {
  let pid: pid_t
  private let outFD: Int32
  private var buffered: [UInt8] = []
  private var known: Set<pid_t> = []
  private var cleaned = false

  static let python: String? = {
    var candidates = ["/usr/bin/python3"]
    if let path = getenv("PATH") {
      for dir in String(cString: path).split(separator: ":") { candidates.append("\(dir)/python3") }
    }
    return candidates.first { access($0, X_OK) == 0 }
  }()

  convenience init?(python script: String) {
    guard let py = SnapTree.python else { return nil }
    self.init(argv: [py, "-c", script])
  }

  init?(argv: [String]) {
    _ = ToolProcess.setUp  // child subreaper: orphaned grandchildren come back to us
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return nil }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    var all = sigset_t()
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &empty)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setpgroup(&attr, 0)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var child: pid_t = 0
    let rc = posix_spawn(&child, argv[0], &actions, &attr, &cargs, environ)
    _ = close(fds[1])
    guard rc == 0, child > 1 else {
      _ = close(fds[0])
      return nil
    }
    pid = child
    outFD = fds[0]
    known.insert(child)
  }

  deinit { cleanup() }

  /// One stdout line, waiting at most `timeoutMs` in poll(2).
  func readLine(timeoutMs: Int = 10_000) -> String? {
    let deadline = Self.nowMs() + timeoutMs
    while true {
      if let nl = buffered.firstIndex(of: 10) {
        let line = String(decoding: buffered[..<nl], as: UTF8.self)
        buffered.removeSubrange(...nl)
        return line
      }
      let left = deadline - Self.nowMs()
      if left <= 0 { return nil }
      var pfd = pollfd(fd: outFD, events: Int16(POLLIN), revents: 0)
      let n = poll(&pfd, 1, Int32(left))
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return nil }
      var buf = [UInt8](repeating: 0, count: 512)
      let got = buf.withUnsafeMutableBytes { read(outFD, $0.baseAddress, $0.count) }
      if got < 0 && errno == EINTR { continue }
      if got <= 0 { return nil }
      buffered += buf[0..<got]
    }
  }

  /// "ready P C ..." -> the pids (tracked for cleanup).
  func readReady() -> [pid_t]? {
    guard let line = readLine() else { return nil }
    let parts = line.split(separator: " ")
    guard parts.first == "ready" else { return nil }
    let pids = parts.dropFirst().compactMap { pid_t($0) }
    known.formUnion(pids.filter { $0 > 1 })
    return pids
  }

  /// Waits (bounded) for the leader to exit and reaps it.
  func reap() -> Bool {
    Self.waitUntil {
      var status: Int32 = 0
      return waitpid(pid, &status, WNOHANG) == pid
    }
  }

  /// SIGKILL the group and every known pid (never a pid <= 1), then reap (bounded).
  func cleanup() {
    if cleaned { return }
    cleaned = true
    _ = close(outFD)
    if pid > 1 { _ = kill(-pid, SIGKILL) }
    for p in known where p > 1 { _ = kill(p, SIGKILL) }
    for p in known where p > 1 {
      _ = Self.waitUntil(timeoutMs: 5_000) {
        var status: Int32 = 0
        let r = waitpid(p, &status, WNOHANG)
        if r == p { return true }
        return r < 0 && kill(p, 0) == -1 && errno == ESRCH
      }
    }
  }

  static func nowMs() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
  }

  /// Polls `cond` every ~10 ms (poll(2) timeout) for up to `timeoutMs`.
  static func waitUntil(timeoutMs: Int = 10_000, _ cond: () -> Bool) -> Bool {
    let deadline = nowMs() + timeoutMs
    while true {
      if cond() { return true }
      if nowMs() >= deadline { return false }
      _ = poll(nil, 0, 10)
    }
  }

  static func readProc(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 4096)
    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
  }

  /// Bounded poll of /proc/PID/syscall until its number is in `numbers`.
  static func waitForSyscall(_ pid: pid_t, _ numbers: Set<Int>) -> Bool {
    waitUntil {
      guard let text = readProc("/proc/\(pid)/syscall"), let first = text.split(separator: " ").first,
        let nr = Int(first)
      else { return false }
      return numbers.contains(nr)
    }
  }

  static func state(_ pid: pid_t) -> Character? {
    guard let text = readProc("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(close, offsetBy: 2)...].first
  }

  static func tracerPid(_ pid: pid_t) -> Int? {
    guard let text = readProc("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("TracerPid:") {
      return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }
    return nil
  }
}
