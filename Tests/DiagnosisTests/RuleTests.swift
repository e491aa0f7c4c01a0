@testable import Diagnosis
import KernelEvidence
import MiniJSON
import Probes
import SystemCore
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

  /// The rule itself on the stored boot death: a zombie died; a child the
  /// kernel saw running did not, even with the status the tree kill gave it
  /// afterwards; one gone from the kernel's view died.
  @Test func diedDuringBootNeedsTheKernelToSeeNoLiveChild() throws {
    let dir = StoredRun.runs + "/fault-boot-death"
    let v = try StoredRun.verdict(run: "fault-boot-death")
    let byPid = try ProbeLog.read(runDir: dir).byPid
    let evidence = Evidence.load(json: try #require(try RunFiles.load(dir).evidence))
    let child: Int32 = 13690
    func rule(_ e: Evidence) -> Classification? {
      DiedDuringBootRule().classify(TerminalContext(pid: child, verdict: v, byPid: byPid, evidence: e, listener: .none, t0: 0))
    }
    #expect(rule(evidence)?.hangClass == .diedDuringBoot, "as stored: a zombie with exit 3")
    var alive = evidence
    alive.processes[child]?.state = "R"
    #expect(rule(alive) == nil, "running at the snapshot: not dead, whatever its exit status says")
    alive.processes[child] = nil
    #expect(rule(alive)?.hangClass == .diedDuringBoot, "gone from the kernel's view: dead")
  }
}

/// died-during-boot needs a death: a child with no probe yet that the kernel
/// saw alive at the snapshot was still starting (a depth-7 hang run under a
/// load of ~50 was once classed died-during-boot this way).
@Suite(.timeLimit(.minutes(1)))
struct DiedDuringBootEvidenceTests {
  @Test func aChildSeenAliveDidNotDieDuringBoot() throws {
    let stored = StoredRun.runs + "/fault-boot-death"
    let dir = "/tmp/tractor-diag-ruletest-\(Syscalls.pid)"
    defer { FileTree.remove(dir) }
    try Syscalls.makeDirectories(dir + "/probes")
    for f in ["run.json", "supervisor.json"] { try Syscalls.writeFile(dir + "/" + f, try StoredRun.text(stored + "/" + f)) }
    for f in Syscalls.listDirectory(stored + "/probes") {
      try Syscalls.writeFile(dir + "/probes/" + f, try StoredRun.text(stored + "/probes/" + f))
    }
    // The same run, but the booting child (the zombie 13690) alive and
    // running when the kernel looked.
    func alive(_ v: JSONValue) -> JSONValue {
      switch v {
      case .object(let pairs):
        if v["pid"] == .int(13690) && v["state"] == .string("Z") {
          return .object(pairs.map { $0.0 == "state" ? ($0.0, .string("R")) : $0 })
        }
        return .object(pairs.map { ($0.0, alive($0.1)) })
      case .array(let items): return .array(items.map(alive))
      default: return v
      }
    }
    let evidence = try StoredRun.json(stored + "/evidence.json")
    let changed = alive(evidence)
    #expect(changed != evidence)
    try Syscalls.writeFile(dir + "/evidence.json", changed.pretty + "\n")

    let before = try StoredRun.verdict(run: "fault-boot-death")
    #expect(before.terminals.contains { $0.pid == 13690 && $0.hangClass == .diedDuringBoot })
    let v = VerdictBuilder.build(try RunFiles.load(dir), log: try ProbeLog.read(runDir: dir))
    #expect(v.outcome == "hang")
    #expect(!v.terminals.contains { $0.hangClass == .diedDuringBoot }, "\(v.terminals.map { "\($0.pid) \($0.hangClass)" })")
  }
}
