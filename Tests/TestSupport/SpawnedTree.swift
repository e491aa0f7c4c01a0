import CSystem
import Glibc

/// A helper script started with posix_spawn in its own process group, stdout on a pipe.
/// Tracks every pid it learns of so cleanup can SIGKILL and reap all of them.
public final class SpawnedTree {
  public let pid: pid_t
  private let outFD: Int32
  private var buffered: [UInt8] = []
  public private(set) var known: Set<pid_t> = []
  private var cleaned = false

  /// Prefers a real interpreter over pyenv shims (shims are slow bash wrappers).
  public static let python: String? = {
    var candidates = ["/usr/bin/python3"]
    if let path = getenv("PATH") {
      for dir in String(cString: path).split(separator: ":") { candidates.append("\(dir)/python3") }
    }
    candidates.append("/root/.pyenv/shims/python3")
    return candidates.first { access($0, X_OK) == 0 }
  }()

  /// Orphaned grandchildren would otherwise go to a PID 1 that never reaps them.
  public static let becameSubreaper: Bool = cs_set_child_subreaper(1) == 0

  public init?(argv: [String]) {
    _ = SpawnedTree.becameSubreaper
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return nil }
    for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    defer { for p in cargs { free(p) } }
    var child: pid_t = 0
    // The project's own spawn: empty signal mask and default dispositions
    // (the test runner's threads may block signals), stdout on our pipe, a
    // new process group so cleanup can kill the group.
    let rc = cs_spawn(&child, argv[0], cargs, environ, -1, 3, fds[1], -1, CS_SPAWN_NEW_PGROUP)
    _ = close(fds[1])
    guard rc == 0 else {
      _ = close(fds[0])
      return nil
    }
    pid = child
    outFD = fds[0]
    known.insert(child)
  }

  public convenience init?(python script: String) {
    guard let py = SpawnedTree.python else { return nil }
    self.init(argv: [py, "-c", script])
  }

  deinit { cleanup() }

  /// Only real pids: kill(-1) or kill(0) in cleanup would hit far more than this tree.
  public func track(_ pids: [pid_t]) { known.formUnion(pids.filter { $0 > 1 }) }

  /// Reads one stdout line, waiting at most `timeoutMs` in poll(2).
  public func readLine(timeoutMs: Int = 10_000) -> String? {
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

  /// "ready P C ..." -> the pids after the word; they are tracked for cleanup.
  public func readReady() -> [pid_t]? {
    guard let line = readLine() else { return nil }
    let parts = line.split(separator: " ")
    guard parts.first == "ready" else { return nil }
    let pids = parts.dropFirst().compactMap { pid_t($0) }
    track(pids)
    return pids
  }

  public static func nowMs() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec * 1000 + ts.tv_nsec / 1_000_000
  }

  /// Polls `cond` every ~10 ms (poll(2) timeout) for up to `timeoutMs`.
  public static func waitUntil(timeoutMs: Int = 10_000, _ cond: () -> Bool) -> Bool {
    let deadline = nowMs() + timeoutMs
    while true {
      if cond() { return true }
      if nowMs() >= deadline { return false }
      _ = poll(nil, 0, 10)
    }
  }

  /// Syscall number from /proc/PID/syscall, nil if running or unreadable.
  public static func syscallNumber(_ pid: pid_t) -> Int? {
    guard let text = readProc("/proc/\(pid)/syscall") else { return nil }
    guard let first = text.split(separator: " ").first else { return nil }
    return Int(first)
  }

  public static func state(_ pid: pid_t) -> Character? {
    guard let text = readProc("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
    return text[text.index(close, offsetBy: 2)...].first
  }

  public static func readProc(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var buf = [UInt8](repeating: 0, count: 4096)
    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
    return n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : nil
  }

  /// Waits until `pid` is in one of `numbers`.
  public static func waitForSyscall(_ pid: pid_t, _ numbers: Set<Int>) -> Bool {
    waitUntil { syscallNumber(pid).map { numbers.contains($0) } ?? false }
  }

  /// SIGKILLs the group and every known pid, then reaps them (bounded, WNOHANG loops).
  public func cleanup() {
    if cleaned { return }
    cleaned = true
    _ = close(outFD)
    if pid > 1 { _ = kill(-pid, SIGKILL) }
    for p in known { _ = kill(p, SIGKILL) }
    for p in known {
      _ = SpawnedTree.waitUntil(timeoutMs: 5_000) {
        var status: Int32 = 0
        let r = waitpid(p, &status, WNOHANG)
        if r == p { return true }
        // ECHILD: not (yet) our child; done once the kernel has forgotten it.
        return r < 0 && kill(p, 0) == -1 && errno == ESRCH
      }
    }
  }

  /// True once every known pid is gone (kill(pid, 0) fails with ESRCH).
  public func allGone() -> Bool {
    known.allSatisfy { kill($0, 0) == -1 && errno == ESRCH }
  }

  /// Waits (bounded) for the leader to exit and reaps it.
  public func reap() -> Bool {
    Self.waitUntil {
      var status: Int32 = 0
      return waitpid(pid, &status, WNOHANG) == pid
    }
  }

  public static func tracerPid(_ pid: pid_t) -> Int? {
    guard let text = readProc("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("TracerPid:") {
      return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) }
    }
    return nil
  }
}
