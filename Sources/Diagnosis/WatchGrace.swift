import Supervision
import SystemCore

/// The grace after the command exits, waited out in slices so that samples
/// and snapshots go on while its leftovers end (DescendantWait does each
/// slice; with nothing scheduled there is one slice, as before).
enum WatchGrace {
  struct Result {
    /// Each process that ended during the grace and when (CLOCK_MONOTONIC ns).
    var ended: [(pid: Int32, atNs: UInt64)] = []
    /// The termination signal that cut the grace short, if any.
    var signal: Int32?
  }

  static func wait(deadlineNs: UInt64, signals: TerminationSignals?, recorder: WatchRecorder) -> Result {
    var all = Result()
    var seen = Set(TreeReaper.liveDescendants())
    while true {
      let w = DescendantWait.untilGone(
        { TreeReaper.liveDescendants() }, deadlineNs: recorder.nextNs(limitNs: deadlineNs), signals: signals)
      all.ended += w.ended
      // A process that ended between two slices was never watched by
      // either: it ended by now (at most one sample period late).
      let now = Syscalls.monotonicNs()
      let live = Set(TreeReaper.liveDescendants())
      for p in seen.subtracting(live).sorted() where !all.ended.contains(where: { $0.pid == p }) {
        all.ended.append((p, now))
      }
      seen.formUnion(live)
      all.signal = w.signal
      if w.allGone || w.signal != nil || now >= deadlineNs { return all }
      recorder.runDue(tree: Array(live).sorted())
    }
  }
}
