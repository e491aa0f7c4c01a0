import ActorRuntime
import CSystem
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
    _ = cs_set_child_subreaper(1)
    let sigfd = cs_termination_signalfd()
    defer { if sigfd >= 0 { close(sigfd) } }
    let start = Syscalls.monotonicNs()
    guard let exe = Syscalls.findExecutable(command[0]) else {
      return Outcome(verdict: emptyVerdict(command, start), commandStatus: nil, startError: "command not found: \(command[0])")
    }
    var pid: pid_t = 0
    let rc = withCStrings([exe] + command.dropFirst()) { argv in
      // New process group: the command's tree is ours to end, not the terminal's.
      cs_spawn(&pid, exe, argv, environ, -1, 3, stdoutToStderr ? 2 : -1, -1, CS_SPAWN_NEW_PGROUP | CS_SPAWN_KEEP_FDS)
    }
    if rc != 0 {
      return Outcome(verdict: emptyVerdict(command, start), commandStatus: nil, startError: "cannot start \(exe): \(String(cString: strerror(rc)))")
    }
    let pidfd = cs_pidfd_open(pid, 0)
    defer { if pidfd >= 0 { close(pidfd) } }
    let deadline = start + UInt64(timeoutMs) * 1_000_000
    var status: WaitStatus? = nil
    var interrupted: Int32? = nil
    var fds = [pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0), pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0)]
    while true {
      let now = Syscalls.monotonicNs()
      if now >= deadline { break }
      let n = poll(&fds, 2, Int32(min(1000, (deadline - now) / 1_000_000 + 1)))
      if n < 0 { continue }
      if fds[1].revents != 0 {
        interrupted = cs_read_signalfd(sigfd)
        break
      }
      if fds[0].revents != 0 {
        var raw: Int32 = 0
        if cs_waitid_pidfd(pidfd, &raw) == 1 { status = WaitStatus(raw: raw) }
        break
      }
    }
    // Orphans that already exited are reparented to us and are zombies:
    // reap them so that only live leftovers count.
    ProcessTree.reapAll(boundMs: 0)
    let me = getpid()
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
