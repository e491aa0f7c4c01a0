import Diagnosis
import KernelEvidence
import Testing

/// The pure parts of time in watch and compare --watch: the schedule's
/// clock, the stall detector, the command template, process events.
@Suite(.timeLimit(.minutes(1)))
struct WatchScheduleTests {
  static let ms: UInt64 = 1_000_000

  static func sample(_ t: UInt64, _ ps: [(Int32, UInt64)], waits: [Int32: [LightSample.Wait]] = [:]) -> LightSample {
    LightSample(
      t: t * ms,
      processes: ps.map {
        LightSample.Process(
          pid: $0.0, ppid: 1, name: "p\($0.0)", role: .program, state: "S", syscall: "read", wchan: nil, cpuNs: $0.1,
          waits: waits[$0.0] ?? [])
      })
  }

  @Test func clockGivesSnapshotsOnceAndSkipsMissedTicks() {
    var c = WatchClock(WatchSchedule(atMs: [300, 100, 300], sampleMs: 50), startNs: 0)
    func due(_ ms: UInt64) -> [WatchDue] { c.due(nowNs: ms * Self.ms) }
    #expect(c.nextNs == 50 * Self.ms)
    #expect(due(50) == [.sample])
    #expect(due(120) == [.at(ms: 100), .sample])
    // Late by several periods (a long snapshot): one sample, then the next tick ahead.
    #expect(due(420) == [.at(ms: 300), .sample])
    #expect(c.nextNs == 450 * Self.ms)
    #expect(WatchSchedule(onStallMs: 500).samplePeriodMs == 100)
    #expect(WatchSchedule(onStallMs: 60).samplePeriodMs == 20)
    #expect(WatchSchedule().isEmpty)
  }

  @Test func oneStallOneSnapshotAndANewStallNeedsActivity() {
    var d = StallDetector(stallMs: 500)
    func observe(_ s: LightSample) -> Bool { d.observe(s) }
    #expect(!observe(Self.sample(0, [(1, 10)])))
    #expect(!observe(Self.sample(100, [(1, 20)])))  // CPU used: quiet from 100
    #expect(!observe(Self.sample(400, [(1, 20)])))
    #expect(observe(Self.sample(600, [(1, 20)])))  // 500 ms quiet
    #expect(!observe(Self.sample(1200, [(1, 20)])))  // the same stall
    d.rebase()  // a snapshot's ptrace woke the process: not activity
    #expect(!observe(Self.sample(1300, [(1, 25)])))
    #expect(!observe(Self.sample(1900, [(1, 25)])))
    // A wait edge that appears is activity; then a second stall.
    let w: [Int32: [LightSample.Wait]] = [1: [LightSample.Wait(kind: .dataFrom, pid: 2, fd: 0)]]
    #expect(!observe(Self.sample(2000, [(1, 25), (2, 0)], waits: w)))
    #expect(observe(Self.sample(2500, [(1, 25), (2, 0)], waits: w)))
  }

  @Test func templateSplitsLikeAShellWithoutOne() throws {
    let t = try CommandTemplate(#"python -c 'print("a b")' "x y" --m={backend} a\ b"#)
    #expect(t.argv(backend: "trio") == ["python", "-c", #"print("a b")"#, "x y", "--m=trio", "a b"])
    #expect(throws: CommandTemplate.ParseError.self) { try CommandTemplate("prog {backend} | tee") }
    #expect(throws: CommandTemplate.ParseError.self) { try CommandTemplate("prog 'x") }
    #expect(throws: CommandTemplate.ParseError.self) { try CommandTemplate("prog x") }
    #expect(throws: CommandTemplate.ParseError.self) { try CommandTemplate("prog \"$HOME\" {backend}") }
  }

  @Test func eventsFromSamplesAndTheFirstDivergence() {
    func s(_ t: UInt64, _ ps: [(Int32, Int32, String)]) -> LightSample {
      LightSample(
        t: t * Self.ms,
        processes: ps.map {
          LightSample.Process(
            pid: $0.0, ppid: $0.1, name: $0.2, role: .python, state: "S", syscall: nil, wchan: nil, cpuNs: 0, waits: [])
        })
    }
    let a = ProcessEvents.from(
      [s(10, [(1, 0, "root")]), s(20, [(1, 0, "root"), (2, 1, "x"), (3, 1, "y")]), s(30, [(1, 0, "root"), (3, 1, "y")]), s(40, [])],
      startNs: 0)
    #expect(a.map(\.text) == ["+ root", "+ x", "+ y", "- x", "- root", "- y"])
    #expect(a.first { $0.shape.name == "x" }?.parent?.name == "root")
    // Same events: no divergence. y ends first under b: a divergence under root.
    #expect(WatchComparison.firstDivergence(reference: a, other: a) == nil)
    let b = ProcessEvents.from(
      [s(10, [(5, 0, "root")]), s(20, [(5, 0, "root"), (6, 5, "x"), (7, 5, "y")]), s(30, [(5, 0, "root"), (6, 5, "x")]), s(40, [])],
      startNs: 0)
    let d = WatchComparison.firstDivergence(reference: a, other: b)
    #expect(d?.parent == "root [python]")
    #expect(d?.index == 2)
    #expect(d?.reference.first == "+ y" && d?.reference.dropFirst().first == "- x")
    #expect(d?.other.dropFirst().first == "- y")
  }
}
