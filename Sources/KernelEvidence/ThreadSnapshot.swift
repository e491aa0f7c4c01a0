/// One task of a process: /proc/PID/task/TID/{stat,syscall,wchan}.
public struct ThreadSnapshot: Sendable {
  public var tid: Int32
  /// State letter from stat (R, S, D, Z, T, t, X, I).
  public var state: Character
  /// Decoded /proc/PID/task/TID/syscall; nil when running or not inside a syscall.
  public var syscall: SyscallInfo?
  /// /proc/PID/task/TID/wchan; nil when "0" (running) or unreadable.
  public var wchan: String?
  public var running: Bool
  /// For poll/ppoll/select/pselect6: the fds from the caller's array read via /proc/PID/mem.
  public var pollFDs: [Int32]?
  /// Those of `pollFDs` waited on only for room to write (POLLOUT without
  /// POLLIN, or only in select's writefds).
  public var pollWriteOnly: [Int32] = []
  /// For connect(2) on AF_UNIX: the sun_path read via /proc/PID/mem ("@name" for abstract).
  public var connectTarget: String?
  /// The blocked call's timeout (poll/epoll ms argument; ppoll, pselect6,
  /// select, nanosleep, clock_nanosleep, futex: the timespec/timeval read
  /// via /proc/PID/mem); nil when the call takes none or it was unreadable.
  public var timeout: Timeout?

  public init(tid: Int32, state: Character, syscall: SyscallInfo?, wchan: String?, running: Bool,
              pollFDs: [Int32]? = nil, connectTarget: String? = nil, timeout: Timeout? = nil) {
    self.timeout = timeout
    self.tid = tid
    self.state = state
    self.syscall = syscall
    self.wchan = wchan
    self.running = running
    self.pollFDs = pollFDs
    self.connectTarget = connectTarget
  }
}

extension ThreadSnapshot {
  /// The fds this thread's blocked syscall waits on: the fd argument of a
  /// read/write-like call, a poll/select set, an epoll fd and the fds it
  /// watches, a waitid(P_PIDFD) fd. Empty when running or in anything else.
  public func waitedFDs(in p: ProcessSnapshot) -> [Int32] {
    guard !running, let sc = syscall else { return [] }
    switch sc.name {
    case "read", "write", "readv", "writev", "preadv", "pwritev", "pread64", "pwrite64", "recvfrom", "sendto",
      "recvmsg", "sendmsg", "recvmmsg", "sendmmsg", "accept", "accept4", "connect", "flock", "io_uring_enter":
      return [sc.int32Arg(0)]
    case "poll", "ppoll", "select", "pselect6":
      return pollFDs ?? []
    case "epoll_wait", "epoll_pwait", "epoll_pwait2":
      let epfd = sc.int32Arg(0)
      guard let f = p.fd(epfd), case .epoll(let watched) = f.kind else { return [epfd] }
      return [epfd] + watched
    case "waitid":
      return sc.args.first == 3 ? [sc.int32Arg(1)] : []
    default:
      return []
    }
  }
}
