import CSystem
import Glibc
import Probes
import Supervision
import SystemCore
import Testing
import TestSupport

/// The fork server forks only for its supervisor and its own actors: a
/// client of another uid, or of our uid but outside the run, is closed
/// without a fork and leaves a REFUSED probe.
@Suite(.serialized)
struct ForkServerAccessTests {
  /// A client that sends one request carrying an fd and prints what came
  /// back: REPLY (a fork), EOF (closed, refused) or TIMEOUT.
  static let client = """
    import socket, sys, select
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("\\0" + sys.argv[1])
    a, b = socket.socketpair()
    req = ('{"name":"%s","runDir":"%s"}' % (sys.argv[3], sys.argv[2])).encode()
    try:
        s.sendmsg([req], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, __import__("array").array("i", [b.fileno()]).tobytes())])
    except OSError:
        print("EOF"); sys.exit(0)
    r, _, _ = select.select([s], [], [], 10)
    if not r: print("TIMEOUT"); sys.exit(0)
    try:
        data = s.recv(512)
    except OSError:
        data = b""
    print("REPLY " + data.decode() if data else "EOF")
    """

  @Test(.timeLimit(.minutes(1)))
  func anotherUIDAndAnOutsiderGetNoFork() throws {
    let python = try #require(SpawnedTree.python, "python3 is required (make deps)")
    #expect(getuid() == 0, "the test switches to uid 65534 with setpriv: it must run as root")
    let candidates: [String] = ["/usr/bin/setpriv", "/bin/setpriv"]
    let setpriv = try #require(candidates.first { access($0, X_OK) == 0 }, "setpriv (util-linux) is required")
    let server = try TestForkServer.start(tag: "fs-access", worldReadable: true)
    defer { server.stop() }
    let name = server.name
    let dir = server.dir

    // Another uid (nobody), then our uid from outside the run (a child of
    // the test process, not of the server).
    let nobody = runClient([setpriv, "--reuid", "65534", "--regid", "65534", "--clear-groups", python, "-c", Self.client, name, dir, "intruder"])
    #expect(nobody == "EOF", "uid 65534 got: \(nobody)")
    let outsider = runClient([python, "-c", Self.client, name, dir, "outsider"])
    #expect(outsider == "EOF", "an outsider of our uid got: \(outsider)")

    let log = try ProbeLog.read(runDir: dir)
    let server_ = log.events.filter { $0.actor == "forkserver" }
    #expect(!server_.contains { $0.event == "FORKED" }, "\(server_.map { "\($0.event) \($0.detail ?? "")" })")
    let refused = server_.filter { $0.event == "REFUSED" }.compactMap(\.detail)
    #expect(refused.count == 2, "\(refused)")
    #expect(refused.contains { $0.hasPrefix("uid=65534 ") }, "\(refused)")
    #expect(refused.contains { $0.hasPrefix("uid=0 ") && $0.contains("not a process of this run") }, "\(refused)")
  }

  /// Runs `argv`, returns its stdout's first line (bounded: 20 s).
  private func runClient(_ argv: [String]) -> String {
    var out: [Int32] = [-1, -1]
    _ = cs_pipe_cloexec(&out)
    var pid: pid_t = 0
    let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    let rc = cs_spawn(&pid, argv[0], cargs, environ, -1, 3, out[1], -1, CS_SPAWN_NEW_PGROUP)
    for p in cargs { free(p) }
    close(out[1])
    defer { close(out[0]) }
    guard rc == 0 else { return "spawn failed \(rc)" }
    var text: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    let until = Syscalls.monotonicNs() + 20_000_000_000
    while Syscalls.monotonicNs() < until {
      var p = pollfd(fd: out[0], events: Int16(POLLIN), revents: 0)
      guard poll(&p, 1, 100) > 0 else { continue }
      let n = read(out[0], &buf, buf.count)
      if n <= 0 { break }
      text.append(contentsOf: buf[0..<n])
    }
    kill(-pid, SIGKILL)
    var st: Int32 = 0
    while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
    return String(decoding: text, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
  }
}
