import ActorRuntime
import Glibc
import MiniJSON
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
    let signals = TerminationSignals.asSubreaper()
    let sigfd = signals.rawValue
    let start = Syscalls.monotonicNs()
    guard let exe = Syscalls.findExecutable(command[0]) else {
      return Outcome(verdict: emptyVerdict(command, start), commandStatus: nil, startError: "command not found: \(command[0])")
    }
    let pid: Int32
    do {
      // New process group: the command's tree is ours to end, not the terminal's.
      pid = try Syscalls.spawn(
        exe, arguments: [exe] + command.dropFirst(), stdout: stdoutToStderr ? 2 : -1, newProcessGroup: true, keepFDs: true)
    } catch {
      return Outcome(verdict: emptyVerdict(command, start), commandStatus: nil, startError: "cannot start \(exe): \(String(cString: strerror(error.errno)))")
    }
    var pidDescriptor = FileDescriptor.none
    do { pidDescriptor.replace(with: try Syscalls.pidfdOpen(pid)) } catch {}
    let pidfd = pidDescriptor.rawValue
    let deadline = start + UInt64(timeoutMs) * 1_000_000
    var status: WaitStatus? = nil
    var interrupted: Int32? = nil
    while true {
      let now = Syscalls.monotonicNs()
      if now >= deadline { break }
      let ready = Syscalls.pollReadable([pidfd, sigfd], timeoutMs: Int32(min(1000, (deadline - now) / 1_000_000 + 1)))
      if ready[1] {
        interrupted = signals.next() ?? -1
        break
      }
      if ready[0] {
        status = (try? Syscalls.reap(pidfd: pidfd)) ?? nil
        break
      }
    }
    // Orphans that already exited are reparented to us and are zombies:
    // reap them so that only live leftovers count.
    ProcessTree.reapAll(boundMs: 0)
    let me = Syscalls.pid
    let alive = ProcessTree.liveDescendants(of: me)
    var v: Verdict
    if alive.isEmpty {
      v = emptyVerdict(command, start)
      v.outcome = "clean"
    } else {
      let ev = Evidence.collect(pids: alive, stackPids: stacks ? alive : [], sampleMs: 100)
      v = kernelVerdict(command, start, ev, stillRunning: status == nil, commandPid: pid)
    }
    v.timeoutMs = timeoutMs
    v.interrupted = interrupted
    v.killed = ProcessTree.killAll()
    v.survivors = ProcessTree.liveDescendants(of: me)
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
