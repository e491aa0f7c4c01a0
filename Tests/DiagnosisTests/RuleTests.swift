@testable import Diagnosis
import KernelEvidence
import Probes
import Testing

/// Single rules and shared predicates on small hand-made cases, where a
/// stored run would not isolate them.
@Suite(.timeLimit(.minutes(1)))
struct RuleTests {
  /// The cancel listener: a child's data-wait on its recorded parent is not
  /// a wait; its room-wait is; an edge back up to a process whose probes
  /// show it waiting on this one is not; nothing is explained away in a
  /// foreign tree.
  @Test func cancelListenerIsOneRule() {
    let l = CancelListener(parentOf: [11: 10, 12: 10], probeWaits: [PidPair(10, 12)])
    #expect(l.explains(WaitEdge(from: 11, to: 10, kind: .dataFrom, evidence: "")))
    #expect(!l.explains(WaitEdge(from: 11, to: 10, kind: .roomFrom, evidence: "")))
    #expect(l.explains(WaitEdge(from: 12, to: 10, kind: .roomFrom, evidence: "")), "the parent waits on 12 in its probes")
    #expect(!l.explains(WaitEdge(from: 10, to: 11, kind: .dataFrom, evidence: "")))
    #expect(!CancelListener.none.explains(WaitEdge(from: 11, to: 10, kind: .dataFrom, evidence: "")))
    let edges = [WaitEdge(from: 10, to: 11, kind: .exitOf, evidence: ""), WaitEdge(from: 11, to: 10, kind: .dataFrom, evidence: "")]
    #expect(l.explains(cycle: [10, 11], edges: edges))
    #expect(!CancelListener.none.explains(cycle: [10, 11], edges: edges))
  }

  /// The wait graph's shape: chains from nodes nobody waits on, a cycle
  /// once from its smallest pid, chains that run into it end there.
  @Test func waitGraphShape() {
    func e(_ a: Int32, _ b: Int32) -> WaitEdge { WaitEdge(from: a, to: b, kind: .dataFrom, evidence: "") }
    let g = WaitGraph(nodes: [1, 2, 3, 4, 5], edges: [e(1, 2), e(2, 3), e(3, 2), e(4, 5)])
    #expect(g.chains == [[1, 2, 3], [4, 5]])
    #expect(g.cycles == [[2, 3]])
    #expect(g.terminals == [5])
    let ring = WaitGraph(nodes: [7, 8], edges: [e(8, 7), e(7, 8)])
    #expect(ring.chains.isEmpty)
    #expect(WaitGraph(nodes: [7, 8], edges: [e(8, 7), e(7, 8)], startAnywhere: true).chains == [[7, 8], [8, 7]])
  }

  /// Rules that read probes say nothing about a process that writes none
  /// (a foreign tree): a zombie under `watch` did not "die during boot".
  @Test func probeRulesSkipForeignProcesses() throws {
    let v = try StoredRun.verdict(watch: "watch-leak-setsid")
    let pid = try #require(v.stuck.first)
    let ctx = TerminalContext(pid: pid, verdict: v, byPid: [:], evidence: nil, listener: .none, t0: 0)
    #expect(!ctx.writesProbes)
    #expect(DiedDuringBootRule().classify(ctx) == nil)
    #expect(ForkFromMultithreadedParentRule().classify(ctx) == nil)
    #expect(CancelNotDeliveredRule().classify(ctx) == nil)
  }

  /// A child with no probe yet whose parent waits in connect_back has died
  /// only if the kernel or the supervisor says so (zombie, exit status,
  /// gone). Alive, it is still booting (a depth-7 child on a loaded host at
  /// the deadline), and died-during-boot would name the wrong cause.
  @Test func aChildStillBootingHasNotDied() throws {
    let dir = StoredRun.runs + "/fault-boot-death"
    let v = try StoredRun.verdict(run: "fault-boot-death")
    let byPid = try ProbeLog.read(runDir: dir).byPid
    let evidence = Evidence.load(json: try #require(try RunFiles.load(dir).evidence))
    let child: Int32 = 13690
    func rule(_ v: Verdict, _ e: Evidence) -> Classification? {
      DiedDuringBootRule().classify(
        TerminalContext(pid: child, verdict: v, byPid: byPid, evidence: e, listener: .none, t0: 0))
    }
    #expect(rule(v, evidence)?.hangClass == .diedDuringBoot, "as stored: a zombie with exit 3")
    var booting = v
    for i in booting.actors.indices where booting.actors[i].pid == child { booting.actors[i].exitStatus = nil }
    var alive = evidence
    alive.processes[child]?.state = "R"
    #expect(rule(booting, alive) == nil, "alive, no exit status: not dead")
    alive.processes[child] = nil
    #expect(rule(booting, alive)?.hangClass == .diedDuringBoot, "gone from the kernel's view: dead")
  }
}
