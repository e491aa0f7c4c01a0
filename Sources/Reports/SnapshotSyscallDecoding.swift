import KernelEvidence
import MiniJSON

/// Syscalls of a snapshot decoded for people and JSON: each meaningful argument
/// named (fds resolved, timeouts in ms, flags in hex).
extension SnapshotReport {

  /// A syscall with its meaningful arguments named and decoded.
  public struct DecodedSyscall: Sendable {
    public var args: [(String, JSONValue)]
    public var text: String
  }

  public static func decode(_ sc: SyscallInfo, thread t: ThreadSnapshot, process p: ProcessSnapshot) -> DecodedSyscall {
    var named: [(String, JSONValue)] = []
    var parts: [String] = []
    func fd(_ key: String, _ i: Int) {
      let n = sc.int32Arg(i)
      named.append((key, .int(Int64(n))))
      parts.append("\(key)=\(n)" + (p.fd(n).map { " \($0.link)" } ?? ""))
    }
    func num(_ key: String, _ i: Int) {
      let v = i < sc.args.count ? sc.args[i] : 0
      named.append((key, .int(Int64(bitPattern: v))))
      parts.append("\(key)=\(v)")
    }
    func int(_ key: String, _ i: Int) {
      let v = sc.int32Arg(i)
      named.append((key, .int(Int64(v))))
      parts.append("\(key)=\(v)")
    }
    func hex(_ key: String, _ i: Int) {
      let v = "0x" + String(i < sc.args.count ? sc.args[i] : 0, radix: 16)
      named.append((key, .string(v)))
      parts.append("\(key)=\(v)")
    }
    func timeout() {  // KernelEvidence's Timeout: -1 infinite, null unreadable
      named.append(("timeoutMs", t.timeout.map { if case .after(let v) = $0 { return .int(v) } else { return .int(-1) } } ?? .null))
      parts.append("timeout=" + (t.timeout.map { "\($0)" } ?? "?"))
    }
    func fdList(_ key: String, _ fds: [Int32]?) {
      guard let fds else {
        named.append((key, .null))
        parts.append("\(key)=unreadable")
        return
      }
      named.append((key, .array(fds.map { .int(Int64($0)) })))
      parts.append("\(key)=[" + fds.map { n in "\(n)" + (p.fd(n).map { " \($0.link)" } ?? "") }.joined(separator: ", ") + "]")
    }

    switch sc.name {
    case "read", "write", "recvfrom", "sendto":
      fd("fd", 0); num("count", 2)
    case "readv", "writev", "preadv", "pwritev":
      fd("fd", 0); num("iovcnt", 2)
    case "pread64", "pwrite64":
      fd("fd", 0); num("count", 2); num("offset", 3)
    case "recvmsg", "sendmsg":
      fd("fd", 0); hex("flags", 2)
    case "recvmmsg", "sendmmsg":
      fd("fd", 0); num("vlen", 2)
    case "accept", "accept4", "close", "fsync", "shutdown":
      fd("fd", 0)
    case "flock":
      fd("fd", 0); hex("operation", 1)
    case "ioctl", "fcntl":
      fd("fd", 0); hex("request", 1)
    case "connect":
      fd("fd", 0)
      let target = t.connectTarget.map { "unix:" + $0 }
      named.append(("address", .from(target)))
      parts.append("address=" + (target ?? "?"))
    case "wait4":
      let pid = sc.int32Arg(0)
      named.append(("pid", .int(Int64(pid))))
      parts.append("pid=\(pid)" + (pid == -1 ? " (any child)" : pid == 0 ? " (own group)" : pid < -1 ? " (group \(-pid))" : ""))
      hex("options", 2)
    case "waitid":
      let idtype = sc.args.first ?? 0
      let names: [UInt64: String] = [0: "P_ALL", 1: "P_PID", 2: "P_PGID", 3: "P_PIDFD"]
      let typeName = names[idtype] ?? "\(idtype)"
      named.append(("idtype", .string(typeName)))
      int("id", 1)
      parts[parts.count - 1] = "\(typeName), " + parts[parts.count - 1]
      if idtype == 3, let f = p.fd(sc.int32Arg(1)), case .pidfd(let target) = f.kind {
        named.append(("target", .int(Int64(target))))
        parts.append("pidfd of \(target)")
      }
      hex("options", 3)
    case "poll":
      fdList("fds", t.pollFDs); num("nfds", 1); timeout()
    case "ppoll":
      fdList("fds", t.pollFDs); num("nfds", 1); timeout()
    case "select", "pselect6":
      num("nfds", 0); fdList("fds", t.pollFDs); timeout()
    case "epoll_wait", "epoll_pwait", "epoll_pwait2":
      fd("epfd", 0)
      var watched: [Int32]? = nil
      if let f = p.fd(sc.int32Arg(0)), case .epoll(let w) = f.kind { watched = w }
      fdList("watched", watched)
      num("maxevents", 2)
      timeout()
    case "futex":
      hex("uaddr", 0)
      let op = (sc.args.count > 1 ? sc.args[1] : 0)
      let ops: [UInt64: String] = [
        0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 5: "FUTEX_WAKE_OP", 6: "FUTEX_LOCK_PI", 7: "FUTEX_UNLOCK_PI",
        9: "FUTEX_WAIT_BITSET", 11: "FUTEX_WAIT_REQUEUE_PI", 13: "FUTEX_LOCK_PI2",
      ]
      let opName = (ops[op & 0x7f] ?? "op \(op & 0x7f)") + (op & 128 != 0 ? "_PRIVATE" : "")
      named.append(("op", .string(opName)))
      parts.append("op=\(opName)")
      int("val", 2); if [0, 9].contains(op & 0x7f) { timeout() }  // FUTEX_WAIT, FUTEX_WAIT_BITSET
    case "futex_waitv":
      num("nr", 1)
    case "clock_nanosleep":
      let clocks: [UInt64: String] = [0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 7: "CLOCK_BOOTTIME"]
      let c = sc.args.first ?? 0
      let cn = clocks[c] ?? "\(c)"
      named.append(("clock", .string(cn)))
      parts.append("clock=\(cn)")
      let abs = (sc.args.count > 1 ? sc.args[1] : 0) & 1 != 0
      named.append(("absolute", .bool(abs)))
      if abs { parts.append("TIMER_ABSTIME") }; timeout()
    case "kill":
      int("pid", 0); int("signal", 1)
    case "pidfd_send_signal":
      fd("pidfd", 0); int("signal", 1)
    case "io_uring_enter":
      fd("fd", 0); num("toSubmit", 1); num("minComplete", 2)
    case "nanosleep": timeout()
    case "pause", "rt_sigsuspend", "rt_sigtimedwait", "sched_yield", "exit", "exit_group", "execve",
      "clone", "clone3", "fork", "vfork":
      break
    default:
      parts = sc.args.prefix(3).map { "0x" + String($0, radix: 16) }
    }
    return DecodedSyscall(args: named, text: "\(sc.name)(\(parts.joined(separator: ", ")))")
  }

  static func kindName(_ k: FDKind) -> String {
    switch k {
    case .socket: return "socket"
    case .pipe: return "pipe"
    case .pidfd: return "pidfd"
    case .epoll: return "epoll"
    case .file: return "file"
    case .other: return "other"
    }
  }

}
