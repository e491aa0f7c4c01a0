import Diagnosis
import Testing

/// Whole verdicts from stored run directories (Tests/DiagnosisTests/Runs):
/// one per hang class the catalog and Fixtures/python reach, and one per
/// outcome. Each asserts the outcome, the class, every chain and cycle, the
/// stuck set and every terminal with its class; no process is started.
/// The pids are the ones recorded when the directories were made
/// (Scripts/regen-diagnosis-runs.sh); regenerating changes them here too.
@Suite(.timeLimit(.minutes(1)))
struct StoredVerdictTests {
  struct Terminal: Sendable, Equatable, CustomStringConvertible {
    var pid: Int32
    var hangClass: HangClass
    init(_ pid: Int32, _ hangClass: HangClass) {
      self.pid = pid
      self.hangClass = hangClass
    }
    var description: String { "\(pid):\(hangClass)" }
  }

  struct Expected: Sendable, CustomStringConvertible {
    var run: String
    var outcome: String
    var hangClass: HangClass?
    var chains: [[Int32]]
    var cycles: [[Int32]]
    var stuck: [Int32]
    var terminals: [Terminal]
    /// Part of the first terminal's explanation.
    var explains: String
    var unexpected: [String]
    init(
      _ run: String, outcome: String, hangClass: HangClass?, chains: [[Int32]], cycles: [[Int32]], stuck: [Int32],
      terminals: [Terminal], explains: String = "", unexpected: [String] = []
    ) {
      self.explains = explains
      self.unexpected = unexpected
      self.run = run
      self.outcome = outcome
      self.hangClass = hangClass
      self.chains = chains
      self.cycles = cycles
      self.stuck = stuck
      self.terminals = terminals
    }
    var description: String { run }
  }

  static let cases: [Expected] = [
    Expected(
      "clean-spawn", outcome: "clean", hangClass: nil,
      chains: [],
      cycles: [], stuck: [],
      terminals: []),
    Expected(
      "fault-blocking-child-wait", outcome: "hang", hangClass: .uncancellableChildWait,
      chains: [[12704, 12705]],
      cycles: [], stuck: [12705],
      terminals: [.init(12705, .uncancellableChildWait)],
      explains: "spawner_0_depth_0 is blocked in wait4(pid 12708) on a child's exit;"),
    Expected(
      "fault-boot-death", outcome: "hang", hangClass: .diedDuringBoot,
      chains: [[13687, 13688, 13690]],
      cycles: [], stuck: [13688, 13690],
      terminals: [.init(13690, .diedDuringBoot)],
      explains: "spawner_0_depth_0_errorer_0 died during boot (exit 3) and its parent"),
    Expected(
      "fault-eof-spin", outcome: "hang", hangClass: .busyLoop,
      chains: [[4757, 4758, 4760, 4764]],
      cycles: [], stuck: [4764],
      terminals: [.init(4764, .busyLoop)],
      explains: "spawner_0_depth_0.0_errorer_0 is spinning on the CPU"),
    Expected(
      "fault-fork-with-threads", outcome: "hang", hangClass: .forkFromMultithreadedParent,
      chains: [[13777, 13778, 13781], [13777, 13778, 13782]],
      cycles: [], stuck: [13778, 13781, 13782],
      terminals: [.init(13781, .forkFromMultithreadedParent), .init(13782, .forkFromMultithreadedParent)],
      explains: "spawner_0_depth_0_errorer_0 was forked from a process with 2 threads"),
    Expected(
      "fault-forkserver-serial", outcome: "hang", hangClass: .forkserverStall,
      chains: [[14251]],
      cycles: [], stuck: [14251, 14252],
      terminals: [.init(14251, .forkserverStall)],
      explains: "root's spawn request (spawner_1_depth_0) waits at the fork server 14250"),
    Expected(
      "fault-ignore-cancel", outcome: "hang", hangClass: .uncancellableTask,
      chains: [[12175, 12176, 12179]],
      cycles: [], stuck: [12176, 12179],
      terminals: [.init(12179, .uncancellableTask)],
      // Its behaviour raised (a task that ended is not the one waiting): the
      // cancel path is what never returned.
      explains: "spawner_0_depth_0_errorer_0 got its cancel request (cancel ENTER) but a task kept waiting: its cancel path (cancel ENTER) never returned"),
    Expected(
      "fault-inherit-fds", outcome: "hang", hangClass: .leakedFDHoldsPeerOpen,
      chains: [
        [12865, 12866, 12867, 12868, 12871], [12865, 12866, 12867, 12869, 12870], [12865, 12866, 12867, 12870, 12869],
        [12865, 12866, 12867, 12871, 12868], [12865, 12867, 12866, 12868, 12871], [12865, 12867, 12866, 12869, 12870],
        [12865, 12867, 12866, 12870, 12869], [12865, 12867, 12866, 12871, 12868],
      ],
      cycles: [[12866, 12867], [12868, 12871], [12869, 12870]], stuck: [12865, 12866, 12867, 12868, 12869, 12870, 12871],
      terminals: [.init(12871, .leakedFDHoldsPeerOpen), .init(12870, .leakedFDHoldsPeerOpen), .init(12869, .leakedFDHoldsPeerOpen), .init(12868, .leakedFDHoldsPeerOpen), .init(12867, .leakedFDHoldsPeerOpen), .init(12866, .leakedFDHoldsPeerOpen)],
      explains: "spawner_1_depth_0_errorer_1 waits for its peer channel to close, but"),
    Expected(
      "fault-lost-cancel", outcome: "hang", hangClass: .cancelNotDelivered,
      chains: [[13323, 13324, 13326]],
      cycles: [], stuck: [13324],
      terminals: [.init(13326, .cancelNotDelivered)],
      explains: "spawner_0_depth_0_errorer_0 was sent a cancel request but its cancel"),
    Expected(
      "fault-never-exit", outcome: "hang", hangClass: .exitNotReached,
      chains: [[13525, 13526]],
      cycles: [], stuck: [13526],
      terminals: [.init(13526, .exitNotReached)],
      explains: "spawner_0_depth_0 finished its teardown but never called"),
    Expected(
      "fault-shielded-parent-loop", outcome: "hang", hangClass: .parentChannelNotCancelled,
      chains: [[12577, 12578]],
      cycles: [], stuck: [12578],
      terminals: [.init(12578, .parentChannelNotCancelled)],
      explains: "spawner_0_depth_0 finished its teardown waits but its shielded"),
    Expected(
      "fault-stdio-pipe", outcome: "hang", hangClass: .blockedOnFullPipe,
      chains: [[13024, 13026, 13029], [13024, 13026, 13030]],
      cycles: [], stuck: [13026, 13029, 13030],
      terminals: [.init(13029, .blockedOnFullPipe), .init(13030, .blockedOnFullPipe)],
      explains: "spawner_1_depth_0_errorer_0 is blocked in write(2) on a full pipe"),
    Expected(
      "fault-unbounded-peer-wait", outcome: "hang", hangClass: .unboundedTeardownWait,
      chains: [[12412, 12413]],
      cycles: [], stuck: [12413],
      terminals: [.init(12413, .unboundedTeardownWait)],
      explains: "spawner_0_depth_0 is in actor main's finally, waiting for peers to"),
    Expected(
      "scenario-ignore-cancel", outcome: "hang", hangClass: .uncancellableTask,
      chains: [[14382, 14383, 14385]],
      cycles: [], stuck: [14385],
      terminals: [.init(14385, .uncancellableTask)],
      explains: "stubborn got its cancel request (cancel ENTER) but a task kept waiting: behavior ENTER never ended"),
    Expected(
      "unexpected-root-error", outcome: "unexpected", hangClass: nil,
      chains: [],
      cycles: [], stuck: [],
      terminals: [],
      unexpected: ["root raised RemoteActorError, expected none"]),
    Expected(
      "watch-full_pipe", outcome: "hang", hangClass: .blockedOnFullPipe,
      chains: [],
      cycles: [[14446, 14499]], stuck: [14446, 14499],
      terminals: [.init(14499, .blockedOnFullPipe), .init(14446, .waitCycle)],
      explains: "python3 is blocked in write(2) on a full pipe"),
    Expected(
      "watch-leak-setsid", outcome: "leak", hangClass: .unexplained,
      chains: [],
      cycles: [], stuck: [22954],
      terminals: [.init(22954, .unexplained)],
      explains: "sleep is stuck (clock_nanosleep) and no known pattern fits; see the"),
    Expected(
      "watch-leaked_fd", outcome: "hang", hangClass: .leakedFDHoldsPeerOpen,
      chains: [[14555, 14610]],
      cycles: [], stuck: [14555, 14610],
      terminals: [.init(14610, .leakedFDHoldsPeerOpen)],
      explains: "python3 waits for data or EOF on fd 3 pipe:[41065], but it holds a copy of the other end itself"),
    Expected(
      "watch-pipe_cycle", outcome: "hang", hangClass: .waitCycle,
      chains: [],
      cycles: [[14695, 14755]], stuck: [14695, 14755],
      terminals: [.init(14695, .waitCycle), .init(14755, .waitCycle)],
      explains: "python3 is part of a wait cycle 14695 → 14755 →"),
    Expected(
      "watch-tcp_cycle", outcome: "hang", hangClass: .mutualChannelWait,
      chains: [],
      cycles: [[11694, 11753]], stuck: [11694, 11753],
      terminals: [.init(11694, .mutualChannelWait), .init(11753, .mutualChannelWait)],
      explains: "python3 11694 and python3 11753 hold the two ends of one TCP connection and each is blocked reading it"),
    // One socketpair, each side reads first: the class, not a bare cycle.
    Expected(
      "watch-mutual_socketpair", outcome: "hang", hangClass: .mutualChannelWait,
      chains: [],
      cycles: [[25204, 25208]], stuck: [25204, 25208],
      terminals: [.init(25204, .mutualChannelWait), .init(25208, .mutualChannelWait)],
      explains: "python 25204 and python 25208 hold the two ends of one socket pair and each is blocked reading it, with nothing queued either way: each expects the other to speak first"),
    // The stdlib fork server stuck in recvmsg on the client's connection:
    // the root waits on a status pipe only the server writes, one request
    // queued in its listener; the zombie it did not reap is a consequence.
    Expected(
      "watch-mp_forkserver_stall", outcome: "hang", hangClass: .forkserverStall,
      chains: [[25439, 25444, 25448]],
      cycles: [], stuck: [25439, 25443, 25444, 25448],
      terminals: [.init(25448, .forkserverStall)],
      explains: "python 25444 serves one client at a time: it is blocked in recvmsg(fd 9 socket:["),
    // tractor under trio: the root waits for stubborn's exit (pidfd); the
    // stubborn's read of its TCP channel to the root is its cancel
    // listener, not an edge back up: one chain, no cycle.
    Expected(
      "watch-tractor_teardown_hang-trio", outcome: "hang", hangClass: .inProcessWait,
      chains: [[25568, 25604]],
      cycles: [], stuck: [25568, 25604],
      terminals: [.init(25604, .inProcessWait)],
      explains: "waits in epoll_wait on nothing outside itself"),
    Expected(
      "watch-pidfd_cycle", outcome: "hang", hangClass: .waitCycle,
      chains: [],
      cycles: [[11812, 11870]], stuck: [11812, 11870],
      terminals: [.init(11812, .waitCycle), .init(11870, .waitCycle)],
      explains: "python3 is part of a wait cycle 11812 → 11870 → 11812"),
    Expected(
      "watch-serial_server", outcome: "hang", hangClass: .forkserverStall,
      chains: [[14875, 14818, 14873]],
      cycles: [], stuck: [14818, 14873, 14875],
      terminals: [.init(14873, .forkserverStall)],
      explains: "python3 14818 serves one client at a time: it is blocked in recvfrom(fd 4 socket:[41310]) on the connection of python3 14873"),
    Expected(
      "watch-waitpid_chain", outcome: "hang", hangClass: .unexplained,
      chains: [[14930, 15018, 15019, 15021]],
      cycles: [], stuck: [14930, 15018, 15019, 15021],
      terminals: [.init(15021, .unexplained)],
      explains: "python3 ends a chain of 3 wait(s) on it (clock_nanosleep), and no"),
    // Real trees under .venv/bin/python (issue 10), with progress samples.
    Expected(
      "watch-asyncio_event", outcome: "hang", hangClass: .inProcessWait,
      chains: [[2447, 2456]],
      cycles: [], stuck: [2447, 2456],
      terminals: [.init(2456, .inProcessWait)],
      explains: "python waits in epoll_wait on nothing outside itself (no timer)"),
    Expected(
      "watch-trio_idle", outcome: "hang", hangClass: .inProcessWait,
      chains: [],
      cycles: [], stuck: [2588],
      terminals: [.init(2588, .inProcessWait)],
      explains: "on nothing outside itself (no timer (timeout is trio's 24 h cap))"),
    Expected(
      "watch-trio_tree", outcome: "hang", hangClass: .inProcessWait,
      chains: [[2765, 2827]],
      cycles: [], stuck: [2765, 2827],
      terminals: [.init(2827, .inProcessWait)],
      explains: "on nothing outside itself (next timer in <= 3600 s)"),
    Expected(
      "watch-timed_sleep", outcome: "hang", hangClass: .sleeping,
      chains: [],
      cycles: [], stuck: [3084],
      terminals: [.init(3084, .sleeping)],
      explains: "python is in a timed sleep (clock_nanosleep timeout 59641 ms): it will wake by itself within 59641 ms"),
    Expected(
      "watch-mp_spawn_chain", outcome: "hang", hangClass: .inProcessWait,
      chains: [[3198, 3203, 3217]],
      cycles: [], stuck: [3198, 3202, 3203, 3217],
      terminals: [.init(3217, .inProcessWait)],
      explains: "python is blocked in futex with a single thread"),
    Expected(
      "watch-busy_loop", outcome: "hang", hangClass: .busyLoop,
      chains: [[3353, 3357]],
      cycles: [], stuck: [3353, 3357],
      terminals: [.init(3357, .busyLoop)],
      explains: "python is spinning on the CPU instead of waiting: spinning:"),
    Expected(
      "watch-working", outcome: "hang", hangClass: .working,
      chains: [],
      cycles: [], stuck: [3467],
      terminals: [.init(3467, .working)],
      explains: "python was still at work at the deadline (working:"),
  ]

  /// A tree with a process at work says so in the verdict's notes (C5);
  /// one that only waits does not.
  @Test func workingTreeNotesItWasStillAtWork() throws {
    #expect(try StoredRun.verdict(watch: "watch-working").notes.contains(Evidence.atWorkNote))
    #expect(try !StoredRun.verdict(watch: "watch-trio_tree").notes.contains(Evidence.atWorkNote))
  }

  /// Wake-up channels are no leak and no "held outside set" (K1); the
  /// in-process-wait evidence lists them.
  @Test func wakeupChannelsAreListedNotLeaks() throws {
    for run in ["watch-asyncio_event", "watch-trio_idle", "watch-trio_tree"] {
      let v = try StoredRun.verdict(watch: run)
      let t = try #require(v.terminals.first)
      #expect(t.evidence.contains { $0.contains("its own wake-up channel") }, "\(run): \(t.evidence)")
      #expect(!v.terminals.contains { $0.hangClass == .leakedFDHoldsPeerOpen }, "\(run)")
    }
  }

  @Test func storedRunsCoverEveryClassAndOutcome() {
    let classes = Set(Self.cases.flatMap { $0.terminals.map(\.hangClass) })
    for c in HangClass.allCases { #expect(classes.contains(c), "no stored run shows \(c)") }
    #expect(Set(Self.cases.map(\.outcome)) == ["clean", "hang", "leak", "unexpected"])
    #expect(Self.cases.count >= 12)
  }

  @Test(arguments: cases)
  func storedRunGivesItsWholeVerdict(_ e: Expected) throws {
    let v = try e.run.hasPrefix("watch-") ? StoredRun.verdict(watch: e.run) : StoredRun.verdict(run: e.run)
    #expect(v.outcome == e.outcome)
    #expect(v.exitCode == (e.outcome == "clean" ? 0 : e.outcome == "unexpected" ? 3 : 1))
    #expect(v.hangClass == e.hangClass)
    #expect(v.waitChains == e.chains)
    #expect(v.cycles == e.cycles)
    #expect(v.stuck == e.stuck)
    #expect(v.terminals.map { Terminal($0.pid, $0.hangClass) } == e.terminals)
    #expect((v.terminals.first?.explanation ?? "").contains(e.explains), "\(v.terminals.first?.explanation ?? "-")")
    #expect(v.unexpected == e.unexpected)
    for t in v.terminals {
      #expect(t.hint == t.hangClass.hint)
      #expect(!t.explanation.isEmpty && !t.evidence.isEmpty, "\(t.pid)")
      #expect(t.name == v.name(of: t.pid))
    }
    // A chain ends at a terminal, or where it runs into a cycle. (A terminal
    // need not be stuck: lost-cancel's leaf exits once its parent is killed.)
    for c in v.waitChains {
      #expect(v.terminals.contains { $0.pid == c.last } || v.cycles.contains { $0.contains(c.last!) }, "chain \(c)")
    }
  }
}
