import CSystem
import Glibc
import Supervision
import SystemCore
import Testing

/// A standalone `tractor-actor forkserver`, started the way the supervisor
/// starts it (its ready byte on fd 3) and awaited on that byte, not on time.
/// `stop()` kills and reaps it and checks that nothing of the test survived.
struct TestForkServer {
  let pid: pid_t
  /// Its abstract socket name.
  let name: String
  /// The run directory its probes go to.
  let dir: String

  static func start(tag: String, worldReadable: Bool = false) throws -> TestForkServer {
    _ = ToolProcess.setUp
    let name = "tractor-diag-\(tag)-\(getpid())"
    let dir = ToolProcess.runDir(tag)
    try Syscalls.makeDirectories(dir + "/probes")
    if worldReadable { _ = chmod(dir, 0o755) }
    var ready: [Int32] = [-1, -1]
    _ = cs_pipe_cloexec(&ready)
    var pid: pid_t = 0
    let exe = ToolProcess.binDir + "/tractor-actor"
    let args = [exe, "forkserver", "--socket", name, "--run-dir", dir, "--ready-fd", "3"]
    let cargs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    #expect(cs_spawn(&pid, exe, cargs, environ, ready[1], 3, -1, -1, 0) == 0)
    for p in cargs { free(p) }
    close(ready[1])
    defer { close(ready[0]) }
    var b: UInt8 = 0
    var pfd = pollfd(fd: ready[0], events: Int16(POLLIN), revents: 0)
    #expect(poll(&pfd, 1, 10_000) == 1)
    #expect(read(ready[0], &b, 1) == 1)
    return TestForkServer(pid: pid, name: name, dir: dir)
  }

  func stop() {
    if pid > 1 {
      kill(pid, SIGKILL)
      var st: Int32 = 0
      while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
    }
    TreeReaper.reapExited()
    #expect(ToolProcess.survivors().isEmpty)
  }
}
