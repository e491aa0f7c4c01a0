@testable import Diagnosis
import KernelEvidence
import Testing

/// The shape of a foreign tree's verdict (stored `watch` runs, no process
/// started): the cancel-listener rule from kernel evidence, chains rooted at
/// the command, bystanders folded, what is outside every chain, and the
/// evidence of mutual-channel-wait and forkserver-stall.
@Suite(.timeLimit(.minutes(1)))
struct ForeignGraphTests {
  /// A stored watch run's evidence, changed by `edit` before the verdict is made.
  static func verdict(_ name: String, edit: (inout Evidence) -> Void = { _ in }) throws -> Verdict {
    let dir = StoredRun.runs + "/" + name
    var ev = Evidence(snapshot: StoredSnapshot.kernelSnapshot(try StoredRun.json(dir + "/snapshot.json")))
    edit(&ev)
    let w = try StoredRun.json(dir + "/watch.json")
    return ForeignTreeVerdict.build(
      command: (w["command"]?.array ?? []).compactMap(\.string), evidence: ev, stillRunning: true,
      commandPid: Int32(w["commandPid"]?.int ?? 0), t0: 0)
  }

  /// tractor under trio: the root watches stubborn's pidfd (its exit) and
  /// its TCP channel; stubborn, in its trio loop, watches the channel back
  /// (its cancel listener). One chain root -> stubborn, no cycle.
  @Test func tractorTrioTeardownIsOneChain() throws {
    let v = try Self.verdict("watch-tractor_teardown_hang-trio")
    #expect(v.waitChains == [[25568, 25604]])
    #expect(v.cycles.isEmpty)
    #expect(v.bystanders.isEmpty)
    #expect(v.outsideChains.isEmpty)
    #expect(v.terminals.map(\.pid) == [25604])
    let t = try #require(v.terminals.first)
    #expect(!t.evidence.contains { $0.hasPrefix("edge 25604") }, "the listener edge is not shown as stubborn's wait: \(t.evidence)")
  }

  /// tractor under spawn: the root's exit wait is the multiprocessing
  /// sentinel (a pipe only the child writes). Edge derivation turns it into
  /// waits-exit-of (PHASE-B K3, another branch); this stored snapshot
  /// predates that, so the test adds the edge K3 gives, by hand. With it:
  /// one chain root -> stubborn, the resource tracker folded, no cycle.
  @Test func tractorSpawnTeardownWithTheSentinelAsExitWait() throws {
    let v = try Self.verdict("watch-tractor_teardown_hang-spawn") { ev in
      ev.graph.edges.append(
        WaitEdge(from: 2635, to: 2656, kind: .exitOf, evidence: "hand-added (K3): pipe written only by child 2656, its sentinel"))
    }
    #expect(v.waitChains == [[2635, 2656]])
    #expect(v.cycles.isEmpty)
    #expect(v.bystanders.map(\.pid) == [2654])
    #expect(v.outsideChains.isEmpty)
    #expect(v.terminals.map(\.pid) == [2656])
    #expect(v.hangClass != .mutualChannelWait, "the parent waits for its exit: not a mutual wait")
  }

  /// The same child blocked in a plain recv() on the parent's channel (not
  /// an event loop) is a real edge: pidfd_cycle stays a cycle.
  @Test func blockingReadOnTheParentChannelStaysAnEdge() throws {
    let v = try StoredRun.verdict(watch: "watch-pidfd_cycle")
    #expect(v.cycles == [[11812, 11870]])
    #expect(v.hangClass == .waitCycle)
    let ev = Evidence(snapshot: StoredSnapshot.kernelSnapshot(try StoredRun.json(StoredRun.runs + "/watch-pidfd_cycle/snapshot.json")))
    let l = CancelListener.foreign(ev)
    let up = try #require(ev.graph.edges.first { $0.from == 11870 && $0.to == 11812 })
    #expect(!l.explains(up))
    // Were the child in an event loop, the same edge would be its listener.
    var loop = ev
    loop.processes[11870]?.syscallName = "epoll_wait"
    #expect(CancelListener.foreign(loop).explains(up))
  }

  /// multiprocessing spawn chain: one chain root -> child -> leaf; the
  /// resource tracker (reads a pipe all three write, nobody waits on it) is
  /// a bystander by its role and by the pipe alone.
  @Test func resourceTrackerIsABystander() throws {
    let v = try StoredRun.verdict(watch: "watch-mp_spawn_chain")
    #expect(v.waitChains == [[3198, 3203, 3217]])
    #expect(v.bystanders.map(\.pid) == [3202])
    #expect(v.bystanders.first?.reason.contains("resource tracker") == true)
    #expect(v.outsideChains.isEmpty)
    #expect(!v.terminals.contains { $0.pid == 3202 })
    let anonymous = try Self.verdict("watch-mp_spawn_chain") { $0.processes[3202]?.cmdline = ["python3"] }
    #expect(anonymous.waitChains == [[3198, 3203, 3217]])
    #expect(anonymous.bystanders.map(\.pid) == [3202])
    #expect(anonymous.bystanders.first?.reason.contains("written by 3 processes") == true)
    // The JSON keeps every edge's process and names the bystander.
    let j = v.json
    #expect(j["bystanders"]?.array?.first?["pid"]?.int == 3202)
    #expect(j["outsideChains"]?.array?.isEmpty == true)
  }

  /// The fork server stall: server, client and what it does, the waiters
  /// (a status pipe only the server writes, a request pending in its
  /// listener), its zombie as a consequence; the zombie and the tracker are
  /// not "outside any chain".
  @Test func forkServerStallNamesServerClientWaitersAndZombies() throws {
    let v = try StoredRun.verdict(watch: "watch-mp_forkserver_stall")
    #expect(v.waitChains == [[25439, 25444, 25448]])
    #expect(v.bystanders.map(\.pid) == [25443])
    #expect(v.outsideChains.isEmpty)
    let t = try #require(v.terminals.first)
    #expect(t.hangClass == .forkserverStall)
    #expect(t.explanation.contains("on the connection of python 25448, which holds it and sends nothing (it is in pause)"))
    #expect(t.explanation.contains("2 wait(s) queue behind it"))
    #expect(t.evidence.contains { $0.hasPrefix("waiting on 25444: python 25439 (reads fd 5 pipe:[") && $0.hasSuffix("1 connection(s) pending in its listener backlog") })
    #expect(t.evidence.contains("consequence: zombie 25447, not reaped by python 25444 while it is stuck"))
  }

  /// Two ends of one socketpair, each read first: both ends named.
  @Test func mutualChannelNamesBothEnds() throws {
    let v = try StoredRun.verdict(watch: "watch-mutual_socketpair")
    #expect(v.outsideChains.isEmpty, "both are in the printed cycle")
    let t = try #require(v.terminals.first)
    #expect(t.evidence.first?.hasPrefix("end 25204: fd 3 socket:[") == true)
    #expect(t.evidence.dropFirst().first?.hasPrefix("end 25208: fd 4 socket:[") == true)
    #expect(t.evidence.prefix(2).allSatisfy { $0.contains("0 bytes queued") })
    // Our actors: the child's read of its parent's channel is its cancel
    // listener (parent from probes), not one side of a mutual wait.
    let ev = Evidence(snapshot: StoredSnapshot.kernelSnapshot(try StoredRun.json(StoredRun.runs + "/watch-mutual_socketpair/snapshot.json")))
    func ctx(_ l: CancelListener) -> TerminalContext {
      TerminalContext(pid: 25204, verdict: v, byPid: [:], evidence: ev, listener: l, t0: 0)
    }
    #expect(MutualChannelRule().classify(ctx(.none))?.hangClass == .mutualChannelWait)
    #expect(MutualChannelRule().classify(ctx(CancelListener(parentOf: [25208: 25204], probeWaits: []))) == nil)
    // Two pipes in opposite directions are not one channel.
    #expect(try StoredRun.verdict(watch: "watch-pipe_cycle").hangClass == .waitCycle)
  }

  /// Chains: rooted at the command when it waits; none repeats part of a
  /// longer one (in order); a chain inside a cycle is the cycle.
  @Test func chainsAreSummarized() {
    func e(_ a: Int32, _ b: Int32) -> WaitEdge { WaitEdge(from: a, to: b, kind: .dataFrom, evidence: "") }
    let g = WaitGraph(nodes: [1, 2, 3, 4], edges: [e(4, 1), e(4, 2), e(1, 2), e(2, 3)], root: 1)
    #expect(g.chains == [[4, 1, 2, 3]])
    let ring = WaitGraph(nodes: [7, 8, 9], edges: [e(9, 7), e(7, 8), e(8, 7)], root: 7)
    #expect(ring.chains == [[9, 7, 8]])
    #expect(ring.cycles == [[7, 8]])
    #expect(WaitGraph(nodes: [7, 8], edges: [e(7, 8), e(8, 7)], root: 7).chains.isEmpty)
    // Into the cycle 8 <-> 9 from 7, at 8 or at 9: one chain.
    let into = WaitGraph(nodes: [7, 8, 9], edges: [e(7, 8), e(7, 9), e(8, 9), e(9, 8)], root: 7)
    #expect(into.chains == [[7, 8, 9]])
    #expect(into.cycles == [[8, 9]])
  }
}
