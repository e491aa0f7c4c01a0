import Glibc
import MiniJSON
import Testing
import TestSupport

/// `watch` on foreign process trees (Python): only kernel evidence exists,
/// and the classes it can show must still be named.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct WatchTests {
  static let python = SpawnedTree.python

  static let cases: [(String, String)] = [
    ("full_pipe.py", "blocked-on-full-pipe"),
    ("leaked_fd.py", "leaked-fd-holds-peer-open"),
    ("busy_loop.py", "busy-loop"),
    ("pipe_cycle.py", "wait-cycle"),
    ("tcp_cycle.py", "mutual-channel-wait"),
    ("mutual_socketpair.py", "mutual-channel-wait"),
    ("pidfd_cycle.py", "wait-cycle"),
    ("serial_server.py", "forkserver-stall"),
  ]

  @Test(.enabled(if: python != nil, "python3 not installed"), arguments: cases)
  func foreignTreeHangIsNamed(script: String, hangClass: String) throws {
    let (r, v) = try ToolProcess.verdict(["watch", "--timeout", "3", "--format", "json", "--", Self.python!, ToolProcess.fixtures + "/python/" + script])
    #expect(r.status == 124)
    #expect(v["exitCode"]?.int == 124)
    #expect(v["outcome"]?.string == "hang")
    #expect(v["timeoutMs"]?.int == 3000)
    #expect(v["hangClass"]?.string == hangClass, "\(script): \(v["terminal"]?.compact ?? "")")
    #expect(v["survivors"]?.array?.isEmpty == true)
    #expect((v["killed"]?.array?.count ?? 0) >= 2)
  }

  @Test(.enabled(if: python != nil, "python3 not installed"))
  func chainOfChildWaitsEndsAtTheSleeper() throws {
    let (r, v) = try ToolProcess.verdict(["watch", "--timeout", "3", "--format", "json", "--", Self.python!, ToolProcess.fixtures + "/python/waitpid_chain.py"])
    #expect(r.status == 124)
    let chain = try #require(v["waitChains"]?.array?.first?.array)
    #expect(chain.count == 4)
    let terminal = try #require(v["terminal"]?.array?.first)
    #expect(terminal["pid"] == chain.last)
    let blocked = (v["blockedOn"]?.array ?? []).first { $0["pid"] == chain.last }
    #expect((blocked?["kernel"]?.string ?? "").contains("nanosleep"))
    #expect((blocked?["stack"]?.array ?? []).isEmpty == false, "the terminal's native stack")
    // Every process is named from its command line, and JSON has its whole argv.
    for a in v["actors"]?.array ?? [] {
      #expect(a["name"]?.string == "waitpid_chain.py", "\(a.compact)")
      #expect(a["cmdline"]?.array?.compactMap(\.string).last?.hasSuffix("waitpid_chain.py") == true, "\(a.compact)")
    }
  }

  /// Eight foreign processes fit on a screen: compact rows, one line per
  /// process under "blocked on", stacks only for the terminal.
  @Test(.enabled(if: python != nil, "python3 not installed"))
  func eightForeignProcessesPrintCompactly() throws {
    let chain = "import os, time\nfor _ in range(7):\n    pid = os.fork()\n    if pid:\n        os.waitpid(pid, 0)\n        os._exit(0)\ntime.sleep(600)\n"
    let r = ToolProcess.run(["watch", "--timeout", "3", "--term-grace", "0.2", "--", Self.python!, "-c", chain])
    #expect(r.status == 124)
    #expect(r.stdout.contains("processes (8)"), "\(r.stdout)")
    let lines = r.stdout.split(separator: "\n").count
    #expect(lines < 50, "\(lines) lines:\n\(r.stdout)")
    #expect(!r.stdout.contains("(no probe"))
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test func leftoverDescendantsAreALeakAndAreKilled() throws {
    let (r, v) = try ToolProcess.verdict(["watch", "--timeout", "10", "--grace", "0.5", "--format", "json", "--", ToolProcess.fixtures + "/python/escapes.sh"])
    #expect(r.status == 3)
    #expect(v["exitCode"]?.int == 3)
    #expect(v["outcome"]?.string == "leak")
    #expect(v["commandStatus"]?.int == 3)
    #expect((v["killed"]?.array?.count ?? 0) >= 1)
  }

  @Test func finishedCommandGivesItsOwnStatus() {
    let r = ToolProcess.run(["watch", "--timeout", "10", "--", "/bin/sh", "-c", "exit 4"])
    #expect(r.status == 4)
    let missing = ToolProcess.run(["watch", "--", "no-such-command-xyz"])
    #expect(missing.status == 127)
    #expect(missing.stderr.contains("command not found"))
    let none = ToolProcess.run(["watch"])
    #expect(none.status == 64)
    #expect(ToolProcess.survivors().isEmpty)
  }

  /// Only the first `--` separates the command; a later one is the command's.
  @Test func theCommandKeepsItsOwnDoubleDash() throws {
    let r = ToolProcess.run(["watch", "--format", "json", "--", "/bin/sh", "-c", "exit 5", "--", "x"])
    #expect(r.status == 5)
    let v = try JSONParser.parse(r.stdout)
    #expect(v["exitCode"]?.int == 5, "JSON exitCode is the process's exit code")
    #expect(v["command"]?.array?.compactMap(\.string) == ["/bin/sh", "-c", "exit 5", "--", "x"], "\(r.stdout)")
    #expect(ToolProcess.survivors().isEmpty)
  }
}
