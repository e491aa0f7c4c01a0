/// One decoded line of /proc/PID/task/TID/syscall ("NR arg1..arg6 sp pc").
public struct SyscallInfo: Sendable, Hashable {
  public var number: Int
  public var name: String
  public var args: [UInt64]

  public init(number: Int, args: [UInt64]) {
    self.number = number
    self.name = SyscallInfo.name(of: number)
    self.args = args
  }

  /// Signed 32-bit view of an argument: pids and fds are C ints, so the upper half is junk.
  public func int32Arg(_ i: Int) -> Int32 {
    i < args.count ? Int32(truncatingIfNeeded: args[i]) : 0
  }

  public static func name(of nr: Int) -> String {
    table[nr] ?? "syscall_\(nr)"
  }

  /// Parses the content of /proc/PID/syscall. Returns nil for "running" and for "-1 ..."
  /// (blocked in the kernel but not inside a syscall), and for anything unparsable.
  static func parse(_ text: String) -> SyscallInfo? {
    let f = ProcFS.fields(text)
    guard let first = f.first, let nr = Int(first), nr >= 0 else { return nil }
    let args = f.dropFirst().prefix(6).compactMap { ProcFS.parseHex($0) }
    return SyscallInfo(number: nr, args: Array(args))
  }

  // x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl); only this machine's ABI matters.
  static let table: [Int: String] = [
    0: "read", 1: "write", 2: "open", 3: "close", 7: "poll", 9: "mmap", 13: "rt_sigaction",
    14: "rt_sigprocmask", 16: "ioctl", 17: "pread64", 18: "pwrite64", 19: "readv", 20: "writev",
    23: "select", 24: "sched_yield", 34: "pause", 35: "nanosleep", 41: "socket", 42: "connect",
    43: "accept", 44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 48: "shutdown",
    56: "clone", 57: "fork", 58: "vfork", 59: "execve", 60: "exit", 61: "wait4", 62: "kill",
    72: "fcntl", 73: "flock", 74: "fsync", 101: "ptrace", 128: "rt_sigtimedwait",
    130: "rt_sigsuspend", 202: "futex", 213: "epoll_create", 230: "clock_nanosleep",
    219: "restart_syscall", 231: "exit_group", 232: "epoll_wait", 247: "waitid", 257: "openat", 270: "pselect6",
    271: "ppoll", 281: "epoll_pwait", 282: "signalfd", 288: "accept4", 289: "signalfd4",
    290: "eventfd2", 291: "epoll_create1", 293: "pipe2", 295: "preadv", 296: "pwritev",
    299: "recvmmsg", 307: "sendmmsg", 310: "process_vm_readv", 424: "pidfd_send_signal",
    426: "io_uring_enter", 434: "pidfd_open", 435: "clone3", 438: "pidfd_getfd",
    441: "epoll_pwait2", 449: "futex_waitv",
  ]
}

/// Syscall numbers the wait-graph logic branches on.
enum SyscallNR {
  static let read = 0, write = 1, poll = 7, readv = 19, writev = 20, select = 23
  static let pause = 34, nanosleep = 35, connect = 42, accept = 43, sendto = 44
  static let recvfrom = 45, sendmsg = 46, recvmsg = 47, wait4 = 61, futex = 202
  static let clockNanosleep = 230, epollWait = 232, waitid = 247, pselect6 = 270
  static let ppoll = 271, epollPwait = 281, accept4 = 288, epollPwait2 = 441
  static let preadv = 295, pwritev = 296, recvmmsg = 299, sendmmsg = 307
  /// Calls that block until there is room to write.
  static let writes: Set<Int> = [write, writev, pwritev, sendto, sendmsg, sendmmsg]
}
