import Glibc

/// Reads one process from /proc. Returns nil if it vanished before its stat was read;
/// later files that vanish just leave fields empty.
enum ProcessReader {
  struct Stat {
    var comm: String
    var state: Character
    var ppid: Int32
    var pgrp: Int32
    var cpuTicks: UInt64
    var startTime: UInt64
  }

  /// Parses /proc/PID/stat; comm may contain spaces and ')' so split at the last ')'.
  static func parseStat(_ text: String) -> Stat? {
    guard let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
    let comm = String(text[text.index(after: open)..<close])
    let rest = ProcFS.fields(text[text.index(after: close)...])
    guard rest.count > 19, let st = rest[0].first else { return nil }
    let utime = UInt64(rest[11]) ?? 0
    let stime = UInt64(rest[12]) ?? 0
    return Stat(comm: comm, state: st, ppid: Int32(rest[1]) ?? 0, pgrp: Int32(rest[2]) ?? 0,
                cpuTicks: utime + stime, startTime: UInt64(rest[19]) ?? 0)
  }

  static func read(pid: Int32, sockets: SocketTable) -> ProcessSnapshot? {
    let base = "/proc/\(pid)"
    guard let statText = ProcFS.readText("\(base)/stat"), let st = parseStat(statText) else { return nil }
    let cmdline: [String] = (ProcFS.read("\(base)/cmdline") ?? [])
      .split(separator: 0, omittingEmptySubsequences: false)
      .map { String(decoding: $0, as: UTF8.self) }
      .reversed().drop { $0.isEmpty }.reversed()

    var threads: [ThreadSnapshot] = []
    if st.state != "Z" && st.state != "X" {
      var tids = ProcFS.listNumeric("\(base)/task").sorted()
      if tids.isEmpty { tids = [pid] }
      for tid in tids {
        if let t = readThread(pid: pid, tid: tid, leaderState: tid == pid ? st.state : nil) {
          threads.append(t)
        }
      }
    }

    let fds = st.state == "Z" ? [] : readFDs(pid: pid, sockets: sockets)

    var pollSet: [Int32]?
    for t in threads where !t.running {
      if let p = t.pollFDs { pollSet = p; break }
      if let sc = t.syscall, isEpollWait(sc.number) {
        let epfd = sc.int32Arg(0)
        if let f = fds.first(where: { $0.fd == epfd }), case .epoll(let watched) = f.kind {
          pollSet = watched
          break
        }
      }
    }
    return ProcessSnapshot(pid: pid, ppid: st.ppid, pgrp: st.pgrp, comm: st.comm, cmdline: cmdline,
                           state: st.state, cpuTicks: st.cpuTicks, startTime: st.startTime,
                           threads: threads, fds: fds, pollSet: pollSet)
  }

  static func isEpollWait(_ nr: Int) -> Bool {
    nr == SyscallNR.epollWait || nr == SyscallNR.epollPwait || nr == SyscallNR.epollPwait2
  }

  /// /proc/PID/task/TID/{stat,syscall,wchan}; the leader's state comes from /proc/PID/stat
  /// (same task) so that file is not read twice.
  static func readThread(pid: Int32, tid: Int32, leaderState: Character?) -> ThreadSnapshot? {
    let tbase = "/proc/\(pid)/task/\(tid)"
    var state: Character
    if let s = leaderState {
      state = s
    } else {
      guard let text = ProcFS.readText("\(tbase)/stat"), let ts = parseStat(text) else { return nil }
      state = ts.state
    }
    let sysText = ProcFS.readText("\(tbase)/syscall") ?? ""
    let syscall = SyscallInfo.parse(sysText)
    var wchan = ProcFS.readText("\(tbase)/wchan")
    if wchan == "0" || wchan == "" { wchan = nil }
    let running = state == "R" || sysText.hasPrefix("running")
    var t = ThreadSnapshot(tid: tid, state: state, syscall: syscall, wchan: wchan, running: running)
    if !running, let sc = syscall {
      switch sc.number {
      case SyscallNR.poll, SyscallNR.ppoll:
        t.pollFDs = readPollFDs(pid: pid, address: sc.args.first ?? 0, nfds: sc.args.count > 1 ? sc.args[1] : 0)
      case SyscallNR.select, SyscallNR.pselect6:
        t.pollFDs = readSelectFDs(pid: pid, args: sc.args)
      case SyscallNR.connect:
        if sc.args.count > 2 {
          t.connectTarget = readUnixAddress(pid: pid, address: sc.args[1], length: sc.args[2])
        }
      default:
        break
      }
    }
    return t
  }

  /// struct pollfd {int fd; short events; short revents} x nfds, from /proc/PID/mem.
  static func readPollFDs(pid: Int32, address: UInt64, nfds: UInt64) -> [Int32]? {
    guard nfds > 0, nfds <= 4096 else { return nfds == 0 ? [] : nil }
    guard let b = ProcFS.readMemory(pid: pid, address: address, count: Int(nfds) * 8) else { return nil }
    var out: [Int32] = []
    for i in 0..<Int(nfds) {
      let o = i * 8
      let fd = Int32(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)
      if fd >= 0 { out.append(fd) }  // negative fds are ignored by poll(2)
    }
    return out
  }

  /// select/pselect6(nfds, readfds, writefds, exceptfds): union of the set bits.
  static func readSelectFDs(pid: Int32, args: [UInt64]) -> [Int32]? {
    guard args.count >= 3 else { return nil }
    let nfds = Int(min(args[0], 1024))
    let bytes = (nfds + 63) / 64 * 8
    var fds = Set<Int32>()
    for ptr in args[1...2] where ptr != 0 && bytes > 0 {
      guard let b = ProcFS.readMemory(pid: pid, address: ptr, count: bytes) else { continue }
      for fd in 0..<nfds where b[fd / 8] & (1 << UInt8(fd % 8)) != 0 { fds.insert(Int32(fd)) }
    }
    return fds.sorted()
  }

  /// struct sockaddr_un at connect(2)'s arg2; nil unless sun_family == AF_UNIX.
  static func readUnixAddress(pid: Int32, address: UInt64, length: UInt64) -> String? {
    let len = Int(min(length, 110))
    guard len > 2, let b = ProcFS.readMemory(pid: pid, address: address, count: len) else { return nil }
    guard UInt16(b[0]) | UInt16(b[1]) << 8 == UInt16(AF_UNIX) else { return nil }
    var path = Array(b[2...])
    // Abstract names are length-delimited; pathnames are NUL-terminated.
    if path.first != 0, let nul = path.firstIndex(of: 0) { path = Array(path[..<nul]) }
    return SocketTable.decodeName(path)
  }

  /// /proc/PID/fd/* via readlink(2); fdinfo is read only for pipes, pidfds and epoll fds.
  static func readFDs(pid: Int32, sockets: SocketTable) -> [FDSnapshot] {
    var out: [FDSnapshot] = []
    for fd in ProcFS.listNumeric("/proc/\(pid)/fd").sorted() {
      guard let link = ProcFS.readLink("/proc/\(pid)/fd/\(fd)") else { continue }
      out.append(classify(pid: pid, fd: fd, link: link, sockets: sockets))
    }
    return out
  }

  static func classify(pid: Int32, fd: Int32, link: String, sockets: SocketTable) -> FDSnapshot {
    if let ino = ProcFS.bracketInode(link, prefix: "socket:[") {
      var f = FDSnapshot(fd: fd, link: link, kind: .socket(inode: ino))
      attachSocket(&f, sockets)
      return f
    }
    if let ino = ProcFS.bracketInode(link, prefix: "pipe:[") {
      let info = readFDInfo(pid: pid, fd: fd)
      return FDSnapshot(fd: fd, link: link, kind: .pipe(inode: ino), writeOnly: isWriteOnly(info))
    }
    if link.contains("pidfd") {
      // Older kernels: "anon_inode:[pidfd]"; pidfs kernels: "pidfd:[ino]".
      let info = readFDInfo(pid: pid, fd: fd)
      return FDSnapshot(fd: fd, link: link, kind: .pidfd(pid: fdInfoPid(info) ?? -1))
    }
    if link == "anon_inode:[eventpoll]" {
      let info = readFDInfo(pid: pid, fd: fd)
      return FDSnapshot(fd: fd, link: link, kind: .epoll(watched: epollTargets(info)))
    }
    if link.hasPrefix("/") { return FDSnapshot(fd: fd, link: link, kind: .file(path: link)) }
    return FDSnapshot(fd: fd, link: link, kind: .other(link))
  }

  /// Peer, state, name and queue of a socket fd, from the sock_diag table.
  static func attachSocket(_ f: inout FDSnapshot, _ sockets: SocketTable) {
    guard case .socket(let ino) = f.kind, let s = sockets.byInode[ino] else { return }
    f.peerInode = s.peer == 0 ? nil : s.peer
    f.socketState = s.state
    f.socketName = s.name
    f.queued = s.rqueue
  }

  static func readFDInfo(pid: Int32, fd: Int32) -> String {
    ProcFS.readText("/proc/\(pid)/fdinfo/\(fd)") ?? ""
  }

  /// fdinfo "flags:" is octal; O_ACCMODE == 1 means O_WRONLY.
  static func isWriteOnly(_ info: String) -> Bool {
    for line in info.split(separator: "\n") where line.hasPrefix("flags:") {
      if let v = ProcFS.fields(line).dropFirst().first, let flags = UInt32(v, radix: 8) {
        return flags & 3 == 1
      }
    }
    return false
  }

  static func fdInfoPid(_ info: String) -> Int32? {
    for line in info.split(separator: "\n") where line.hasPrefix("Pid:") {
      return ProcFS.fields(line).dropFirst().first.flatMap { Int32($0) }
    }
    return nil
  }

  /// "tfd:        5 events:       19 data: ..." lines of an eventpoll fdinfo.
  static func epollTargets(_ info: String) -> [Int32] {
    var out: [Int32] = []
    for line in info.split(separator: "\n") where line.hasPrefix("tfd:") {
      if let v = ProcFS.fields(line).dropFirst().first, let fd = Int32(v) { out.append(fd) }
    }
    return out
  }
}
