import Diagnosis
import Testing

/// The one parser of probe details, on the formats the runtime writes.
@Suite(.timeLimit(.minutes(1)))
struct ProbeDetailTests {
  @Test func peerWaitBound() {
    #expect(ProbeDetail.peerWaitBound("bound=none") == .unbounded)
    #expect(ProbeDetail.peerWaitBound("bound=3000ms") == .ms(3000))
    // Anything else is not a bound: never read as unbounded.
    for d in [nil, "", "no bound", "bound 3000 ms", "bound=", "bound=3s", "bound=xms"] {
      #expect(ProbeDetail.peerWaitBound(d) == nil, "\(d ?? "nil")")
    }
  }

  @Test func fork() {
    #expect(ProbeDetail.fork("threads=2 child=spawner_0_depth_0_errorer_0") == .init(threads: 2, child: "spawner_0_depth_0_errorer_0"))
    #expect(ProbeDetail.fork("threads=1") == .init(threads: 1, child: nil))
    #expect(ProbeDetail.fork("child=x") == nil)
    #expect(ProbeDetail.fork(nil) == nil)
  }

  @Test func exitStatus() {
    #expect(ProbeDetail.exitStatus("exit 0") == .init(text: "exit 0", code: 0))
    #expect(ProbeDetail.exitStatus("exit 3") == .init(text: "exit 3", code: 3))
    #expect(ProbeDetail.exitStatus("signal 9 (SIGKILL)") == .init(text: "signal 9 (SIGKILL)", code: 137))
    #expect(ProbeDetail.exitStatus("unknown") == nil)
    #expect(ProbeDetail.exitStatus("still running") == nil)
    #expect(ProbeDetail.exitStatus("gone") == .init(text: "gone", code: nil))
  }
}
