/// Derives wait-for edges from blocked syscalls: the kernel's side of the
/// wait graph (see WaitGraph for its shape).
enum WaitEdgeDerivation {
  private enum Direction { case read, write, poll }

  /// Accumulates edges for one process; dedupes on (from, to, kind), keeping the first evidence.
  private struct Builder {
    let pid: Int32
    let inSet: Set<Int32>
    var edges: [WaitEdge] = []
    var seen = Set<String>()
    var reasons: [String] = []

    mutating func add(_ to: Int32, _ kind: WaitKind, _ evidence: String, fd: Int32? = nil) {
      guard to != pid, inSet.contains(to) else { return }
      let key = "\(to)/\(kind.rawValue)"
      if seen.insert(key).inserted { edges.append(WaitEdge(from: pid, to: to, kind: kind, evidence: evidence, fd: fd)) }
    }

    mutating func note(_ reason: String) {
      if !reasons.contains(reason) { reasons.append(reason) }
    }
  }

  static func derive(procs: [ProcessSnapshot], index: InodeIndex, sockets: SocketTable)
    -> (edges: [WaitEdge], unexplained: [Int32: String])
  {
    let inSet = Set(procs.map { $0.pid })
    var edges: [WaitEdge] = []
    var unexplained: [Int32: String] = [:]
    for p in procs {
      var b = Builder(pid: p.pid, inSet: inSet)
      // A zombie waits on nothing: it is a consequence (KernelSnapshot.zombies).
      if p.isZombie { continue }
      for t in p.threads where !t.running {
        threadEdges(p, t, procs: procs, index: index, sockets: sockets, into: &b)
      }
      edges += b.edges
      if b.edges.isEmpty && p.isBlocked {
        unexplained[p.pid] = b.reasons.isEmpty ? "blocked (state \(p.state))" : b.reasons.prefix(3).joined(separator: "; ")
      }
    }
    return (edges, unexplained)
  }

  private static func holderList(_ hs: [FDHolder], excluding pid: Int32) -> String {
    let others = hs.filter { $0.pid != pid }
    if others.isEmpty { return "none outside \(pid)" }
    return others.map { "\($0.pid) fd \($0.fd)" }.joined(separator: ", ")
  }

  private static func threadEdges(_ p: ProcessSnapshot, _ t: ThreadSnapshot, procs: [ProcessSnapshot],
                                  index: InodeIndex, sockets: SocketTable, into b: inout Builder)
  {
    let who = t.tid == p.pid ? "" : "tid \(t.tid) "
    guard let sc = t.syscall else {
      if t.state == "T" || t.state == "t" {
        b.note("stopped (\(t.state))")
      } else {
        b.note("\(who)in kernel, not in a syscall" + (t.wchan.map { " (wchan \($0))" } ?? ""))
      }
      return
    }
    let src = "/proc/\(p.pid)/task/\(t.tid)/syscall"
    switch sc.number {
    case SyscallNR.wait4:
      let target = sc.int32Arg(0)
      if target > 0 {
        b.add(target, .exitOf, "\(who)wait4(pid=\(target)) in \(src)")
        if !b.inSet.contains(target) { b.note("wait4(pid=\(target)): not in set") }
      } else {
        let pg: Int32? = target == -1 ? nil : (target == 0 ? p.pgrp : -target)
        waitChildren(p, procs: procs, pgrp: pg, call: "\(who)wait4(pid=\(target)) in \(src)", into: &b)
      }
    case SyscallNR.waitid:
      let idtype = sc.args.first ?? 0
      let id = sc.int32Arg(1)
      switch idtype {
      case 1:
        b.add(id, .exitOf, "\(who)waitid(P_PID, \(id)) in \(src)")
        if !b.inSet.contains(id) { b.note("waitid(P_PID, \(id)): not in set") }
      case 3:
        if let f = p.fd(id), case .pidfd(let target) = f.kind {
          b.add(target, .exitOf,
                "\(who)waitid(P_PIDFD, fd \(id)) in \(src); /proc/\(p.pid)/fdinfo/\(id) Pid: \(target)", fd: id)
          if !b.inSet.contains(target) { b.note("waitid(P_PIDFD fd \(id) -> Pid \(target)): not in set") }
        } else {
          b.note("waitid(P_PIDFD, fd \(id)): fd is not a pidfd")
        }
      case 2:
        waitChildren(p, procs: procs, pgrp: id == 0 ? p.pgrp : id, call: "\(who)waitid(P_PGID, \(id)) in \(src)", into: &b)
      default:
        waitChildren(p, procs: procs, pgrp: nil, call: "\(who)waitid(P_ALL) in \(src)", into: &b)
      }
    case SyscallNR.read, SyscallNR.readv, SyscallNR.recvfrom, SyscallNR.recvmsg, SyscallNR.recvmmsg, SyscallNR.preadv:
      fdEdges(p, fd: sc.int32Arg(0), dir: .read, call: "\(who)\(sc.name)(2)", procs: procs, index: index, into: &b)
    case SyscallNR.write, SyscallNR.writev, SyscallNR.sendto, SyscallNR.sendmsg, SyscallNR.sendmmsg, SyscallNR.pwritev:
      fdEdges(p, fd: sc.int32Arg(0), dir: .write, call: "\(who)\(sc.name)(2)", procs: procs, index: index, into: &b)
    case SyscallNR.poll, SyscallNR.ppoll, SyscallNR.select, SyscallNR.pselect6:
      guard let fds = t.pollFDs else {
        b.note("\(sc.name): fd array unreadable from /proc/\(p.pid)/mem")
        return
      }
      for fd in fds {
        let dir: Direction = t.pollWriteOnly.contains(fd) ? .write : .poll
        fdEdges(p, fd: fd, dir: dir, call: "\(who)\(sc.name)(2) set from /proc/\(p.pid)/mem includes", procs: procs,
                index: index, into: &b)
      }
      if fds.isEmpty { b.note("\(sc.name) with no fds (sleep)") }
    case SyscallNR.epollWait, SyscallNR.epollPwait, SyscallNR.epollPwait2:
      let epfd = sc.int32Arg(0)
      guard let f = p.fd(epfd), case .epoll(let watched) = f.kind else {
        b.note("\(sc.name) on fd \(epfd): not an epoll fd")
        return
      }
      for fd in watched {
        fdEdges(p, fd: fd, dir: f.epollWriteOnly.contains(fd) ? .write : .poll,
                call: "\(who)\(sc.name) on epoll fd \(epfd) (/proc/\(p.pid)/fdinfo/\(epfd) tfd) watches",
                procs: procs, index: index, into: &b)
      }
      if watched.isEmpty { b.note("\(sc.name) on epoll fd \(epfd) watching nothing") }
    case SyscallNR.connect:
      let fd = sc.int32Arg(0)
      guard let name = t.connectTarget else {
        b.note("connect on fd \(fd) (address unreadable or not AF_UNIX)")
        return
      }
      let listeners = sockets.listenersByName[name] ?? []
      if listeners.isEmpty { b.note("connect on fd \(fd) to unix:\(name): no listener") }
      for ino in listeners {
        let hs = index.socketHolders[ino] ?? []
        let pending = sockets.byInode[ino]?.rqueue.map { " (\($0) pending)" } ?? ""
        let ev = "\(who)connect(2) on fd \(fd) to unix:\(name) (sockaddr from /proc/\(p.pid)/mem), listener socket:[\(ino)]\(pending) held by \(holderList(hs, excluding: p.pid))"
        for h in hs { b.add(h.pid, .acceptFrom, ev, fd: fd) }
        if !hs.contains(where: { b.inSet.contains($0.pid) && $0.pid != p.pid }) {
          b.note("connect to unix:\(name): listener socket:[\(ino)] held outside set")
        }
      }
    default:
      b.note(who + sc.name)
    }
  }

  /// The one writer of a pipe P reads, when it is P's multiprocessing child
  /// (spawn child, or a fork server's child): Popen's sentinel, whose EOF is
  /// that child's exit. Reading it waits for the exit, not for data.
  private static func sentinelWriter(_ p: ProcessSnapshot, writers: [FDHolder], procs: [ProcessSnapshot]) -> Int32? {
    let pids = Set(writers.map(\.pid))
    guard pids.count == 1, let w = pids.first, w != p.pid, let c = procs.first(where: { $0.pid == w }) else { return nil }
    let parentArgv = procs.first { $0.pid == c.ppid }?.cmdline
    let role = ProcessNaming.identify(argv: c.cmdline, comm: c.comm, parentArgv: parentArgv).role
    switch role {
    case .spawnChild: return c.ppid == p.pid ? w : nil
    case .forkServerChild: return w
    default: return nil
    }
  }

  private static func waitChildren(_ p: ProcessSnapshot, procs: [ProcessSnapshot], pgrp: Int32?, call: String,
                                   into b: inout Builder)
  {
    let kids = procs.filter { $0.ppid == p.pid && (pgrp == nil || $0.pgrp == pgrp) }
    for k in kids { b.add(k.pid, .exitOf, "\(call): child \(k.pid) (ppid from /proc/\(k.pid)/stat)") }
    if kids.isEmpty { b.note("\(call.split(separator: " ").first ?? "wait"): no child in set") }
  }

  private static func fdEdges(_ p: ProcessSnapshot, fd: Int32, dir: Direction, call: String, procs: [ProcessSnapshot],
                              index: InodeIndex, into b: inout Builder)
  {
    guard let f = p.fd(fd) else {
      b.note("\(call) fd \(fd): not open")
      return
    }
    let base = "\(call) fd \(fd) \(f.link)"
    // A wake-up channel watched by a readiness wait: only this process can
    // signal it. No edge, no "held outside set" (FDSnapshot.wakeup).
    if f.wakeup && dir == .poll {
      b.note("\(call.split(separator: "(").first ?? "") on \(f.link): its own wake-up channel")
      return
    }
    if f.wakeup {
      b.note("\(call.split(separator: "(").first ?? "") on \(f.link): other end held only by itself")
      return
    }
    switch f.kind {
    case .socket(let ino):
      if f.socketState == KernelSocket.listenState {
        b.note("\(base): listening, waits for new clients")
        return
      }
      guard let peer = f.peerInode else {
        b.note("\(base): no peer on this machine (unconnected, not Unix or TCP, or a remote host)")
        return
      }
      let hs = index.socketHolders[peer] ?? []
      let kind: WaitKind = dir == .write ? .roomFrom : .dataFrom
      let q = f.queued.map { ", \($0) bytes queued" } ?? ""
      let tcp = f.socketIsTCP ? f.socketName.map { " " + $0 } ?? "" : ""
      let ev = "\(base) (sock_diag socket:[\(ino)]\(tcp) peer socket:[\(peer)]\(q)), peer holders: \(holderList(hs, excluding: p.pid))"
      for h in hs { b.add(h.pid, kind, ev, fd: fd) }
      if !hs.contains(where: { b.inSet.contains($0.pid) && $0.pid != p.pid }) {
        b.note("\(call.split(separator: "(").first ?? "") on \(f.link): peer held outside set")
      }
    case .pipe(let ino):
      let writing = dir == .write || (dir == .poll && f.writeOnly)
      let hs = (writing ? index.pipeReaders[ino] : index.pipeWriters[ino]) ?? []
      let role = writing ? "readers" : "writers"
      let ev = "\(base) (/proc/\(p.pid)/fdinfo/\(fd) \(writing ? "O_WRONLY" : "O_RDONLY")), \(role): \(holderList(hs, excluding: p.pid))"
      if !writing, let child = sentinelWriter(p, writers: hs, procs: procs) {
        b.add(child, .exitOf, "\(ev): pipe written only by child \(child): a multiprocessing sentinel, EOF at its exit", fd: fd)
        return
      }
      for h in hs { b.add(h.pid, writing ? .roomFrom : .dataFrom, ev, fd: fd) }
      if !hs.contains(where: { b.inSet.contains($0.pid) && $0.pid != p.pid }) {
        b.note("\(call.split(separator: "(").first ?? "") on \(f.link): \(role) outside set")
      }
    case .pidfd(let target):
      b.add(target, .exitOf, "\(base) (/proc/\(p.pid)/fdinfo/\(fd) Pid: \(target))", fd: fd)
      if !b.inSet.contains(target) { b.note("pidfd \(fd) (Pid: \(target)) not in set") }
    case .file(let path):
      b.note("\(call.split(separator: "(").first ?? "") on \(path)")
    case .epoll, .other:
      b.note("\(call.split(separator: "(").first ?? "") on \(f.link)")
    }
  }
}
