import ActorRuntime
import CSystem
import Glibc
import MiniJSON
import SystemCore
import TestSupport
import Testing

/// Runs the built `tractor-diag` as a real child process and collects what it
/// printed. The test process is a child subreaper, so anything the tool fails
/// to reap is reparented to us and `survivors()` finds it.
struct ToolRun {
  var status: Int32
  var stdout: String
  var stderr: String

  var json: JSONValue? { try? JSONParser.parse(stdout) }
}

enum ToolProcess {
  static let binDir: String = {
    let exe = Syscalls.executablePath()
    var parts = exe.split(separator: "/", omittingEmptySubsequences: false)
    // .build/debug/tractor-diagPackageTests.xctest
    parts.removeLast()
    return parts.joined(separator: "/")
  }()

  static var tool: String { binDir + "/tractor-diag" }

  static let setUp: Void = {
    _ = cs_set_child_subreaper(1)
    // Temporary files of what the tests start (multiprocessing's pymp-*
    // directories, which a SIGKILLed fork server never removes) go where
    // `make test` clears before each run, not into /tmp for good.
    let tmp = "/tmp/tractor-diag-tests/tmp"
    try? Syscalls.makeDirectories(tmp)
    setenv("TMPDIR", tmp, 1)
  }()

  static let fixtures: String = {
    // Tests/EndToEndTests/ToolProcess.swift -> repo root
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/Fixtures"
  }()

  /// A fresh run directory under /tmp.
  static func runDir(_ tag: String) -> String {
    let d = "/tmp/tractor-diag-tests/\(getpid())-\(tag)-\(Syscalls.monotonicNs() % 1_000_000_000)"
    try? Syscalls.makeDirectories(d)
    return d
  }

  /// A watch without --run-dir keeps its run dir under the tests' /tmp
  /// directory, not in the checkout's tractor-diag-runs/ (where ~40 were left
  /// by every suite run). `--run-dir` before `--` is the watch's own option.
  static func withTestRunDir(_ args: [String]) -> [String] {
    guard args.first == "watch",
      !args.prefix(while: { $0 != "--" }).contains(where: { $0 == "--run-dir" || $0.hasPrefix("--run-dir=") })
    else { return args }
    return [args[0], "--run-dir", runDir("watch")] + args.dropFirst()
  }

  /// Runs the tool with `args`, bounded by `timeoutSeconds` (a generous
  /// bound, not a measurement: past it the tool is killed and the test fails).
  static func run(_ args: [String], timeoutSeconds: Int = 120) -> ToolRun {
    _ = setUp
    let args = withTestRunDir(args)
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    _ = cs_pipe_cloexec(&outPipe)
    _ = cs_pipe_cloexec(&errPipe)
    var pid: pid_t = 0
    let argv = [tool] + args
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
    cargs.append(nil)
    let rc = cs_spawn(&pid, tool, cargs, environ, -1, 3, outPipe[1], errPipe[1], CS_SPAWN_NEW_PGROUP)
    for p in cargs { free(p) }
    close(outPipe[1])
    close(errPipe[1])
    guard rc == 0 else {
      close(outPipe[0])
      close(errPipe[0])
      return ToolRun(status: -1, stdout: "", stderr: "spawn failed: \(rc)")
    }
    var out: [UInt8] = []
    var err: [UInt8] = []
    let until = Syscalls.monotonicNs() + UInt64(timeoutSeconds) * 1_000_000_000
    var open = 2
    var fds = [pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0), pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)]
    var buf = [UInt8](repeating: 0, count: 65536)
    while open > 0 {
      let now = Syscalls.monotonicNs()
      if now >= until {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        break
      }
      let n = poll(&fds, 2, Int32(min(1000, (until - now) / 1_000_000 + 1)))
      if n <= 0 { continue }
      for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
        let r = read(fds[i].fd, &buf, buf.count)
        if r > 0 {
          if i == 0 { out.append(contentsOf: buf[0..<r]) } else { err.append(contentsOf: buf[0..<r]) }
        } else if r == 0 || (r < 0 && errno != EINTR) {
          close(fds[i].fd)
          fds[i].fd = -1
          open -= 1
        }
      }
    }
    for f in fds where f.fd >= 0 { close(f.fd) }
    // Closed pipes need not mean an exited tool: the wait is bounded too.
    var status: Int32 = 0
    while true {
      let r = waitpid(pid, &status, WNOHANG)
      if r == pid || (r < 0 && errno != EINTR) { break }
      if Syscalls.monotonicNs() >= until {
        kill(-pid, SIGKILL)
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}  // SIGKILLed: returns at once
        break
      }
      var p = pollfd(fd: -1, events: 0, revents: 0)
      _ = poll(&p, 0, 5)
    }
    let ws = WaitStatus(raw: status)
    return ToolRun(status: ws.code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
  }

  /// Runs the tool for a JSON verdict; expects that nothing of the run
  /// survives it, and that stdout is JSON (else the test stops here).
  static func verdict(
    _ args: [String], timeoutSeconds: Int = 120, sourceLocation: SourceLocation = #_sourceLocation
  ) throws -> (ToolRun, JSONValue) {
    let r = run(args, timeoutSeconds: timeoutSeconds)
    #expect(survivors().isEmpty, "a process of the run survived", sourceLocation: sourceLocation)
    let v = try #require(r.json, "stdout was not JSON: \(r.stdout) \(r.stderr)", sourceLocation: sourceLocation)
    return (r, v)
  }

  /// Live descendants of the test process left behind by a run; kills and
  /// reaps them so one failure does not cascade, and returns their pids.
  static func survivors() -> [Int32] {
    var found: [Int32] = []
    for _ in 0..<3 {
      let live = liveDescendants()
      if live.isEmpty { break }
      found.append(contentsOf: live)
      for p in live { kill(p, SIGKILL) }
      ProcessTree.reapExited()
    }
    ProcessTree.reapExited()
    return Array(Set(found)).sorted()
  }

  /// The test's own /proc walk (TestSupport), not the product's TreeReaper:
  /// a bug in the product's walk must not hide what it left behind.
  static func liveDescendants() -> [Int32] { ProcessTree.liveDescendants(of: getpid()) }
}

extension JSONValue {
  /// Actor names along a wait chain of the verdict.
  func chainNames(_ chain: JSONValue) -> [String] {
    let actors = self["actors"]?.array ?? []
    return (chain.array ?? []).compactMap { p in
      actors.first { $0["pid"]?.int == p.int }?["name"]?.string
    }
  }
}
