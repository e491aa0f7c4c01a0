import ActorRuntime
import Glibc
import MiniJSON
import Supervision
import SystemCore

/// `watch`: runs any command as our child (we are its subreaper), waits up
/// to a deadline, and if it is still running — or leaves descendants behind —
/// diagnoses the tree from kernel evidence alone, then kills all of it.
public enum WatchRun {
  public struct Outcome: Sendable {
    public var verdict: Verdict
    public var commandStatus: WaitStatus?
    public var startError: String?
  }

  public static func run(command: [String], timeoutMs: Int, stacks: Bool, stdoutToStderr: Bool) -> Outcome {
    TreeReaper.becomeSubreaper()
    let signals = TerminationSignals()
    let start = Syscalls.monotonicNs()
    guard let exe = Syscalls.findExecutable(command[0]) else {
      return Outcome(verdict: emptyVerdict(command, start), commandStatus: nil, startError: "command not found: \(command[0])")
    }
    // New process group: the command's tree is ours to end, not the
    // terminal's. It keeps our fds, as under any shell.
    var child: OwnedChild
    do {
      child = try ChildLauncher.launch(
        LaunchSpec(
          executable: exe, arguments: [exe] + command.dropFirst(),
          fds: [.inherit, stdoutToStderr ? .parent(2) : .inherit, .inherit], newProcessGroup: true, keepInheritedFDs: true))
    } catch {
      return Outcome(
        verdict: emptyVerdict(command, start), commandStatus: nil,
        startError: "cannot start \(exe): \(String(cString: strerror(error.errno)))")
    }
    var status: WaitStatus? = nil
    var interrupted: Int32? = nil
    switch child.wait(untilNs: start + UInt64(timeoutMs) * 1_000_000, signals: signals) {
    case .exited(let s): status = s
    case .interrupted(let sig): interrupted = sig
    case .timedOut: break
    }
    // Orphans that already exited are reparented to us and are zombies:
    // reap them so that only live leftovers count.
    TreeReaper.reapExited()
    let alive = TreeReaper.liveDescendants()
    var v: Verdict
    if alive.isEmpty {
      v = emptyVerdict(command, start)
      v.outcome = "clean"
    } else {
      let ev = Evidence.collect(pids: alive, stackPids: stacks ? alive : [], sampleMs: 100)
      v = kernelVerdict(command, start, ev, stillRunning: status == nil, commandPid: child.pid)
    }
    v.timeoutMs = timeoutMs
    v.interrupted = interrupted
    v.killed = TreeReaper.tearDown()
    v.survivors = TreeReaper.liveDescendants()
    v.durationMs = Double(Syscalls.monotonicNs() - start) / 1e6
    if let s = status { v.notes.insert("the command exited: \(s)", at: 0) }
    return Outcome(verdict: v, commandStatus: status, startError: nil)
  }

  static func emptyVerdict(_ command: [String], _ start: UInt64) -> Verdict {
    ForeignTreeVerdict.empty(command: command, durationMs: Double(Syscalls.monotonicNs() - start) / 1e6)
  }

  /// A verdict from kernel evidence only: the same shape as a tree verdict.
  public static func kernelVerdict(_ command: [String], _ start: UInt64, _ ev: Evidence, stillRunning: Bool, commandPid: Int32) -> Verdict {
    var v = ForeignTreeVerdict.build(command: command, evidence: ev, stillRunning: stillRunning, commandPid: commandPid, t0: start)
    v.durationMs = Double(Syscalls.monotonicNs() - start) / 1e6
    return v
  }
}
