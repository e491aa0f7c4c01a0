@testable import Diagnosis
import Reports
import Testing

/// The watch verdict's text, from a verdict built by hand: the quoted
/// header, no contradicting evidence lines, compact rows.
@Suite(.timeLimit(.minutes(1)))
struct ForeignVerdictTextTests {
  @Test func shellQuotingQuotesOnlyWhatNeedsIt() {
    #expect(ShellQuote.line(["pytest", "-k", "nested and not slow", "--spawn-backend=mp"]) == "pytest -k 'nested and not slow' --spawn-backend=mp")
    #expect(ShellQuote.word("it's") == "'it'\\''s'")
    #expect(ShellQuote.word("") == "''")
  }

  @Test func aPeerHeldOutsideTheSetIsNotPrintedBesideHoldsItItself() {
    var v = ForeignTreeVerdict.empty(command: ["python3", "x.py"], durationMs: 1)
    v.outcome = "hang"
    v.stuck = [10]
    v.actors = [
      ActorRecord(
        pid: 10, name: "x.py", role: "command", parentPid: nil, reachedExit: false, exitStatus: nil, exitCode: nil,
        lastProbe: nil, lastProbeMs: nil, diesOnPurpose: false, hardKilled: nil, depth: 0, cmdline: ["python3", "x.py"],
        doing: "S epoll_wait")
    ]
    v.blockedOn = [
      BlockedOn(pid: 10, probe: "", kernel: "S epoll_wait", stack: [], edge: "unexplained: epoll_wait on socket:[1]: peer held outside set")
    ]
    v.terminals = [
      TerminalVerdict(
        pid: 10, name: "x.py", hangClass: .leakedFDHoldsPeerOpen,
        explanation: "x.py waits for EOF on fd 4, but it holds a copy of the other end itself", evidence: ["kernel 10: S"],
        hint: "close inherited fds")
    ]
    let text = VerdictText.render(v)
    #expect(!text.contains("peer held outside set"), "\(text)")
    #expect(text.contains("HANG  watch: python3 x.py: 1 process still running"))
    #expect(!text.contains("(no probe)"))
    #expect(text.contains("  x.py                10      command  S epoll_wait  terminal: leaked-fd-holds-peer-open\n"), "\(text)")
  }
}
