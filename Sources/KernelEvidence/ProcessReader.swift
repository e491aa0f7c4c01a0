import Glibc  // AF_UNIX
import SystemCore

/// Reads one process from /proc. Returns nil if it vanished before its stat was read;
/// later files that vanish just leave fields empty.
enum ProcessReader {
  static func read(pid: Int32, sockets: SocketTable) -> ProcessSnapshot? {
    let base = "/proc/\(pid)"
    guard let st = ProcStat.read(pid: pid) else { return nil }
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
      guard let ts = ProcStat.read(pid: pid, tid: tid) else { return nil }
      state = ts.state
    }
    let sysText = ProcFS.readText("\(tbase)/syscall") ?? ""
    let syscall = SyscallInfo.parse(sysText)
    var wchan = ProcFS.readText("\(tbase)/wchan")
    if wchan == "0" || wchan == "" { wchan = nil }
    let running = state == "R" || sysText.hasPrefix("running")
    var t = ThreadSnapshot(tid: tid, state: state, syscall: syscall, wchan: wchan, running: running)
    if !running, let sc = syscall {
      t.timeout = Timeout.decode(
        sc, readMemory: { ProcFS.readMemory(pid: pid, address: $0, count: $1) }, nowNs: { Syscalls.clockNs($0) })
      switch sc.number {
      case SyscallNR.poll, SyscallNR.ppoll:
        let set = readPollFDs(pid: pid, address: sc.args.first ?? 0, nfds: sc.args.count > 1 ? sc.args[1] : 0)
        t.pollFDs = set?.fds
        t.pollWriteOnly = set?.writeOnly ?? []
      case SyscallNR.select, SyscallNR.pselect6:
        let set = readSelectFDs(pid: pid, args: sc.args)
        t.pollFDs = set?.fds
        t.pollWriteOnly = set?.writeOnly ?? []
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

  /// struct pollfd {int fd; short events; short revents} x nfds, from /proc/PID/mem:
  /// the fds, and those waited on for POLLOUT (4) without POLLIN (1).
  static func readPollFDs(pid: Int32, address: UInt64, nfds: UInt64) -> (fds: [Int32], writeOnly: [Int32])? {
    guard nfds > 0, nfds <= 4096 else { return nfds == 0 ? ([], []) : nil }
    guard let b = ProcFS.readMemory(pid: pid, address: address, count: Int(nfds) * 8) else { return nil }
    var out: [Int32] = []
    var writeOnly: [Int32] = []
    for i in 0..<Int(nfds) {
      let o = i * 8
      let fd = Int32(bitPattern: UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24)
      guard fd >= 0 else { continue }  // negative fds are ignored by poll(2)
      out.append(fd)
      let events = UInt16(b[o + 4]) | UInt16(b[o + 5]) << 8
      if events & 4 != 0 && events & 1 == 0 { writeOnly.append(fd) }
    }
    return (out, writeOnly)
  }

  /// select/pselect6(nfds, readfds, writefds, exceptfds): union of the set
  /// bits, and the fds set only in writefds.
  static func readSelectFDs(pid: Int32, args: [UInt64]) -> (fds: [Int32], writeOnly: [Int32])? {
    guard args.count >= 3 else { return nil }
    let nfds = Int(min(args[0], 1024))
    let bytes = (nfds + 63) / 64 * 8
    var sets: [Set<Int32>] = [[], []]
    for (k, ptr) in args[1...2].enumerated() where ptr != 0 && bytes > 0 {
      guard let b = ProcFS.readMemory(pid: pid, address: ptr, count: bytes) else { continue }
      for fd in 0..<nfds where b[fd / 8] & (1 << UInt8(fd % 8)) != 0 { sets[k].insert(Int32(fd)) }
    }
    return (sets[0].union(sets[1]).sorted(), sets[1].subtracting(sets[0]).sorted())
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
    if let ino = ProcFS.bracketInode(link, prefix: "pipe:[") { return pipeFD(pid: pid, fd: fd, link: link, inode: ino) }
    if link.includes("pidfd") {
      // Older kernels: "anon_inode:[pidfd]"; pidfs kernels: "pidfd:[ino]".
      let info = readFDInfo(pid: pid, fd: fd)
      return FDSnapshot(fd: fd, link: link, kind: .pidfd(pid: fdInfoPid(info) ?? -1))
    }
    if link == "anon_inode:[eventpoll]" {
      let info = readFDInfo(pid: pid, fd: fd)
      var f = FDSnapshot(fd: fd, link: link, kind: .epoll(watched: epollTargets(info)))
      f.epollWriteOnly = epollWriteOnlyTargets(info)
      return f
    }
    if link.hasPrefix("/") {
      // A named FIFO shows as its path, not "pipe:[ino]"; it waits like a pipe.
      if let ino = fifoInode(pid: pid, fd: fd) { return pipeFD(pid: pid, fd: fd, link: link, inode: ino) }
      return FDSnapshot(fd: fd, link: link, kind: .file(path: link))
    }
    return FDSnapshot(fd: fd, link: link, kind: .other(link))
  }

  /// A pipe or FIFO end; its direction from the fdinfo access mode.
  static func pipeFD(pid: Int32, fd: Int32, link: String, inode: UInt64) -> FDSnapshot {
    let mode = accessMode(readFDInfo(pid: pid, fd: fd))
    var f = FDSnapshot(fd: fd, link: link, kind: .pipe(inode: inode), writeOnly: mode == 1)
    f.readWrite = mode == 2
    return f
  }

  /// Peer, state, name and queue of a socket fd, from the sock_diag table.
  static func attachSocket(_ f: inout FDSnapshot, _ sockets: SocketTable) {
    guard case .socket(let ino) = f.kind, let s = sockets.byInode[ino] else { return }
    f.peerInode = s.peer == 0 ? nil : s.peer
    f.socketState = s.state
    f.socketName = s.name
    f.socketIsTCP = s.isTCP
    f.queued = s.rqueue
  }

  /// stat(2) through /proc/PID/fd/N (it reaches unlinked files too): the
  /// inode when the fd is a FIFO.
  static func fifoInode(pid: Int32, fd: Int32) -> UInt64? {
    guard let st = Syscalls.status("/proc/\(pid)/fd/\(fd)"), st.isFIFO else { return nil }
    return st.inode
  }

  static func readFDInfo(pid: Int32, fd: Int32) -> String {
    ProcFS.readText("/proc/\(pid)/fdinfo/\(fd)") ?? ""
  }

  /// fdinfo "flags:" is octal; O_ACCMODE: 0 read, 1 write (O_WRONLY), 2 both (O_RDWR).
  static func accessMode(_ info: String) -> UInt32? {
    for line in info.split(separator: "\n") where line.hasPrefix("flags:") {
      if let v = ProcFS.fields(line).dropFirst().first, let flags = UInt32(v, radix: 8) { return flags & 3 }
    }
    return nil
  }

  static func fdInfoPid(_ info: String) -> Int32? {
    for line in info.split(separator: "\n") where line.hasPrefix("Pid:") {
      return ProcFS.fields(line).dropFirst().first.flatMap { Int32($0) }
    }
    return nil
  }

  /// Watched fds whose "events:" mask (hex) has EPOLLOUT (4) but not EPOLLIN (1).
  static func epollWriteOnlyTargets(_ info: String) -> [Int32] {
    var out: [Int32] = []
    for line in info.split(separator: "\n") where line.hasPrefix("tfd:") {
      let f = ProcFS.fields(line)
      guard f.count >= 4, f[2] == "events:", let fd = Int32(f[1]), let ev = UInt32(f[3], radix: 16) else { continue }
      if ev & 4 != 0 && ev & 1 == 0 { out.append(fd) }
    }
    return out
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
