import Diagnosis
import KernelEvidence
import Testing

/// Progress sampling (K5): working, spinning and idle from several samples,
/// independent of how much CPU a loaded machine hands out.
@Suite(.timeLimit(.minutes(1)))
struct ProgressTests {
  static func sample(_ ms: UInt64, cpu: UInt64, wait: UInt64, faults: UInt64 = 100, threads: [String] = ["1 R running 0"])
    -> ProgressSample
  {
    ProgressSample(
      atNs: ms * 1_000_000, onCpuNs: cpu * 1_000_000, runDelayNs: wait * 1_000_000, minorFaults: faults,
      threadCount: threads.count, rssPages: 1000, threads: threads, state: "R")
  }

  /// A spinner on a loaded machine: 10 ms of CPU per 50 ms interval, the
  /// rest waiting for a CPU. The old one-sample test saw "20 ms CPU in
  /// 100 ms" and said nothing; it is runnable all the time and nothing moves.
  @Test func starvedSpinnerIsSpinning() throws {
    let s = [Self.sample(0, cpu: 0, wait: 0), Self.sample(50, cpu: 10, wait: 40), Self.sample(100, cpu: 20, wait: 80)]
    let p = try #require(Progress.judge(s))
    #expect(p.activity == .spinning)
    #expect(p.onCpuMs == 20 && p.runnableMs == 100)
  }

  @Test func cpuWithMovingStateIsWorking() throws {
    let s = [
      Self.sample(0, cpu: 0, wait: 0), Self.sample(50, cpu: 30, wait: 5, faults: 180),
      Self.sample(100, cpu: 60, wait: 10, faults: 260),
    ]
    #expect(Progress.judge(s)?.activity == .working)
  }

  @Test func noCpuIsIdleAndOneSampleIsNothing() throws {
    let blocked = ["1 S 232 do_epoll_wait"]
    let s = [Self.sample(0, cpu: 5, wait: 1, threads: blocked), Self.sample(50, cpu: 5, wait: 1, threads: blocked)]
    #expect(Progress.judge(s)?.activity == .idle)
    #expect(Progress.judge([Self.sample(0, cpu: 0, wait: 0)]) == nil)
  }

  /// CPU in one interval and sleeping through the next (a timer tick) is
  /// not spinning: runnable under half of the second interval.
  @Test func shortBurstIsNotSpinning() throws {
    let s = [Self.sample(0, cpu: 0, wait: 0), Self.sample(50, cpu: 40, wait: 5), Self.sample(100, cpu: 41, wait: 5)]
    #expect(Progress.judge(s)?.activity == .unclear)
  }
}
