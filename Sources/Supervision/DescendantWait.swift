import Glibc
import SystemCore

/// Waiting for a set of processes below us to end on their own: watch's
/// grace after the command exits, and the term grace after its SIGTERM.
/// The wait is on pidfds with poll(2) (each end is seen when it happens,
/// not at a polling tick), bounded by a deadline, and cut short by a
/// termination signal when `signals` is given.
public enum DescendantWait {
  public struct Result: Sendable {
    /// Each process that ended during the wait and when (CLOCK_MONOTONIC ns).
    public var ended: [(pid: Int32, atNs: UInt64)] = []
    /// The termination signal that cut the wait short, if any.
    public var signal: Int32?
    /// Whether the set was empty when the wait stopped.
    public var allGone = false
  }

  /// Waits until `members()` (re-read after each end: a member may fork)
  /// has no live process, `deadlineNs` passes, or a termination signal
  /// arrives. Reaps our children (the reparented orphans) as they end.
  public static func untilGone(_ members: () -> [Int32], deadlineNs: UInt64, signals: TerminationSignals?) -> Result {
    var r = Result()
    var watched: [Int32: Int32] = [:]  // pid -> pidfd we own
    func close(_ fd: Int32) { _ = FileDescriptor(adopting: fd) }  // closes as it dies
    defer { for fd in watched.values { close(fd) } }
    while true {
      TreeReaper.reapExited()
      let live = Set(members().filter(isAlive))
      let now = Syscalls.monotonicNs()
      for p in watched.keys.sorted() where !live.contains(p) {
        r.ended.append((p, now))
        if let fd = watched.removeValue(forKey: p) { close(fd) }
      }
      for p in live.sorted() where watched[p] == nil {
        if let fd = try? Syscalls.pidfdOpen(p) { watched[p] = fd.take() }
      }
      if live.isEmpty {
        r.allGone = true
        return r
      }
      if let signals, let sig = signals.take() {
        r.signal = sig
        return r
      }
      if now >= deadlineNs { return r }
      var fds: [(fd: Int32, events: Int16)] = watched.values.map { ($0, Int16(POLLIN)) }
      if let signals { fds.append((signals.descriptor, Int16(POLLIN))) }
      // The 1 s cap only bounds how late a member forked without a pidfd
      // (pidfd_open failed) is seen; ends are seen at once through the pidfds.
      _ = ProcessControl.poll(fds, timeoutMs: Int32(min(1000, (deadlineNs - now) / 1_000_000 + 1)))
    }
  }

  /// Live descendants of this process in process group `pgid`.
  public static func groupMembers(_ pgid: Int32) -> [Int32] {
    TreeReaper.liveDescendants().filter { ProcStat.read(pid: $0)?.pgrp == pgid }
  }

  static func isAlive(_ pid: Int32) -> Bool {
    guard let s = TreeReaper.state(pid) else { return false }
    return s != "Z" && s != "X"
  }
}
