import CSystem
import Glibc
import MiniJSON
import SystemCore
import Testing
import TestSupport

/// `watch` as a CI job sees it: one exit code per outcome (README's table),
/// JSON `exitCode` equal to it, the grace for what the command leaves, the
/// command run as it was given, and a polite end (SIGTERM first).
@Suite(.serialized, .timeLimit(.minutes(5)))
struct WatchExitTests {
  /// Exit 0 and clean: a child that ends within the grace lingers, it does not leak.
  @Test func aChildEndingWithinTheGraceLingers() throws {
    let (r, v) = try ToolProcess.verdict(["watch", "--grace", "20", "--format", "json", "--", "/bin/sh", "-c", "sleep 0.3 & exit 0"])
    #expect(r.status == 0)
    #expect(v["exitCode"]?.int == 0)
    #expect(v["outcome"]?.string == "clean")
    let lingering = try #require(v["lingering"]?.array)
    #expect(lingering.count == 1, "\(r.stdout)")
    #expect(lingering.first?["name"]?.string == "sleep")
    #expect((lingering.first?["ms"]?.double ?? -1) >= 0)
  }

  /// Exit 3: alive after the grace is a leak, judged, and ended.
  @Test func aChildAliveAfterTheGraceIsALeak() throws {
    let (r, v) = try ToolProcess.verdict(["watch", "--grace", "0.5", "--format", "json", "--", "/bin/sh", "-c", "sleep 30 & exit 0"])
    #expect(r.status == 3)
    #expect(v["exitCode"]?.int == 3)
    #expect(v["outcome"]?.string == "leak")
    #expect(v["commandStatus"]?.int == 0)
    #expect(v["lingering"]?.array?.isEmpty == true)
    let sleeper = try #require(v["actors"]?.array?.first)
    #expect(sleeper["name"]?.string == "sleep")
    #expect(sleeper["cmdline"]?.array?.compactMap(\.string) == ["sleep", "30"])
    #expect(v["hangClass"]?.string != nil, "judged with the same classes")
  }

  /// Exit 124 past the deadline, after the snapshot: the command's process
  /// group gets SIGTERM first (its trap runs and says so on stdout).
  @Test func theCommandGetsSIGTERMAtTheDeadline() {
    let r = ToolProcess.run([
      "watch", "--timeout", "3", "--no-stacks", "--", "/bin/sh", "-c", "trap 'echo got-TERM; exit 7' TERM; sleep 60 & wait",
    ])
    #expect(r.status == 124)
    #expect(r.stdout.contains("got-TERM"), "\(r.stdout)")
    #expect(r.stdout.contains("HANG"))
    #expect(r.stdout.contains("exit 124"))
    #expect(ToolProcess.survivors().isEmpty)
  }

  /// The header carries the whole command, shell-quoted.
  @Test func theHeaderShowsTheWholeCommandQuoted() {
    let long = "sleep 60; echo " + String(repeating: "x", count: 80) + " 'quoted'"
    let r = ToolProcess.run(["watch", "--timeout", "1", "--term-grace", "0.2", "--no-stacks", "--", "/bin/sh", "-c", long])
    #expect(r.status == 124)
    #expect(r.stdout.contains("watch: /bin/sh -c 'sleep 60; echo \(String(repeating: "x", count: 80)) '\\''quoted'\\'''"), "\(r.stdout)")
    #expect(!r.stdout.contains("(no probe)"), "foreign rows have no probe column")
    #expect(ToolProcess.survivors().isEmpty)
  }

  /// The command starts with the signal state watch was given (here: SIGUSR1
  /// ignored by the shell that execs watch), not with glibc's internal
  /// signals 32 and 33 ignored, and with none of watch's fds above 2.
  @Test func theCommandGetsTheCallersSignalsAndNoExtraFDs() throws {
    let probe = "grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd | wc -l"
    let r = ToolProcess.run([
      "watch", "--", "/bin/sh", "-c",
      "trap '' USR1; \(probe); exec \(ToolProcess.tool) watch --run-dir \(ToolProcess.runDir("inner")) -- /bin/sh -c \"\(probe)\"",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let lines = r.stdout.split(separator: "\n").map(String.init)
    try #require(lines.count == 6, "\(r.stdout)")
    #expect(lines[3] == lines[0], "SigBlk of the command equals its caller's")
    #expect(lines[4] == lines[1], "SigIgn of the command equals its caller's")
    #expect(lines[1].hasSuffix("0000000000000200"), "USR1 ignored, nothing else: \(lines[1])")
    // `ls /proc/self/fd` lists 0, 1, 2 and its own directory fd.
    #expect(lines[5].trimmingCharacters(in: " ") == "4", "watch's fds stay with watch: \(lines[5])")
  }

  /// stdin, cwd and environment are watch's own.
  @Test func theCommandGetsTheCallersStdinCwdAndEnvironment() {
    // The inner watch's run dir goes with the tests' (not into /tmp's cwd).
    let dir = ToolProcess.runDir("cwd")
    let r = ToolProcess.run([
      "watch", "--", "/bin/sh", "-c",
      "cd /tmp && echo piped | WATCH_TEST_VAR=given exec \(ToolProcess.tool) watch --run-dir \(dir) -- /bin/sh -c 'pwd; echo $WATCH_TEST_VAR; cat'",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "/tmp\ngiven\npiped\n", "\(r.stdout)")
  }

  @Test func helpIsHelp() {
    let r = ToolProcess.run(["watch", "--help"])
    #expect(r.status == 0)
    #expect(r.stdout.contains("--grace") && r.stdout.contains("124"), "\(r.stdout)\(r.stderr)")
  }

  /// Ctrl-C: one snapshot and verdict, then the tree is ended: exit 130.
  /// SIGTERM to watch: ended without a snapshot: exit 143.
  @Test(arguments: [SIGINT, SIGTERM])
  func aSignalToWatchEndsTheTree(sig: Int32) throws {
    _ = ToolProcess.setUp
    let dir = ToolProcess.runDir("watch-sig\(sig)")
    let out = dir + "/out.txt"
    let fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var pid: pid_t = 0
    let argv = [
      ToolProcess.tool, "watch", "--run-dir", dir + "/run", "--timeout", "120", "--no-stacks", "--", "/bin/sh", "-c",
      "echo ready; sleep 120",
    ]
    let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    #expect(cs_spawn(&pid, ToolProcess.tool, cargs, environ, -1, 3, fd, fd, CS_SPAWN_NEW_PGROUP) == 0)
    for p in cargs { free(p) }
    close(fd)
    defer { #expect(ToolProcess.survivors().isEmpty) }
    func text() -> String { String(decoding: Syscalls.readFile(out) ?? [], as: UTF8.self) }
    #expect(SpawnedTree.waitUntil(timeoutMs: 30_000) { text().contains("ready") })
    // `ready` is printed before the sleep starts: wait for the sleep too
    // (watch, its tree keeper, sh, sleep).
    #expect(SpawnedTree.waitUntil(timeoutMs: 30_000) { ToolProcess.liveDescendants().count >= 4 })
    kill(pid, sig)
    var st: Int32 = 0
    #expect(SpawnedTree.waitUntil(timeoutMs: 60_000) { waitpid(pid, &st, WNOHANG) == pid })
    #expect(WaitStatus(raw: st) == .exited(sig == SIGINT ? 130 : 143), "\(text())")
    #expect(ToolProcess.liveDescendants().isEmpty, "nothing of the tree is left")
    if sig == SIGINT {
      #expect(text().contains("HANG") && text().contains("sleep"), "a snapshot and verdict: \(text())")
    } else {
      #expect(text().contains("no snapshot"), "\(text())")
    }
  }
}

extension String {
  fileprivate func trimmingCharacters(in set: Character) -> String {
    var s = Substring(self)
    while s.first == set { s = s.dropFirst() }
    while s.last == set { s = s.dropLast() }
    return String(s)
  }
}
