/// Everything read for one pid from /proc/PID/{stat,comm,cmdline,task,fd,fdinfo}.
public struct ProcessSnapshot: Sendable {
  public var pid: Int32
  public var ppid: Int32
  public var pgrp: Int32
  public var comm: String
  public var cmdline: [String]
  public var state: Character
  /// utime + stime from /proc/PID/stat, in clock ticks.
  public var cpuTicks: UInt64
  /// starttime from /proc/PID/stat (ticks since boot): with pid it identifies the process.
  public var startTime: UInt64
  public var threads: [ThreadSnapshot]
  public var fds: [FDSnapshot]
  /// fds a poll/ppoll/select/epoll caller waits on (first such thread).
  public var pollSet: [Int32]?

  public init(pid: Int32, ppid: Int32, pgrp: Int32, comm: String, cmdline: [String], state: Character,
              cpuTicks: UInt64, startTime: UInt64, threads: [ThreadSnapshot], fds: [FDSnapshot],
              pollSet: [Int32]?) {
    self.pid = pid
    self.ppid = ppid
    self.pgrp = pgrp
    self.comm = comm
    self.cmdline = cmdline
    self.state = state
    self.cpuTicks = cpuTicks
    self.startTime = startTime
    self.threads = threads
    self.fds = fds
    self.pollSet = pollSet
  }

  public func fd(_ n: Int32) -> FDSnapshot? { fds.first { $0.fd == n } }

  /// A thread blocked in a write-like call (write, writev, pwritev, sendto,
  /// sendmsg, sendmmsg). A ptrace stop interrupts it: a pipe write that had
  /// copied part of its data returns short and the target moves on. Stack
  /// captures skip such processes, so that looking does not change them.
  public var threadInWrite: ThreadSnapshot? {
    threads.first { t in !t.running && t.syscall.map { SyscallNR.writes.contains($0.number) } == true }
  }

  /// The fds any blocked thread waits on (see ThreadSnapshot.waitedFDs).
  public var blockingFDs: Set<Int32> { Set(threads.flatMap { $0.waitedFDs(in: self) }) }

  /// Exited and not reaped (state Z or X): a consequence of its parent, not a wait.
  public var isZombie: Bool { state == "Z" || state == "X" }

  /// No thread is runnable and the process is not a zombie.
  public var isBlocked: Bool {
    state != "Z" && state != "X" && !threads.isEmpty && !threads.contains { $0.running }
  }
}
