import Synchronization
import SystemCore
/// Maps socket and pipe inodes to the (pid, fd) pairs holding them: the set's own
/// fds, and those of every other process on the machine (a peer may live
/// outside the set).
struct InodeIndex: Sendable {
  var socketHolders: [UInt64: [FDHolder]] = [:]
  var pipeReaders: [UInt64: [FDHolder]] = [:]
  var pipeWriters: [UInt64: [FDHolder]] = [:]

  /// `procs` are already read (their fd tables are reused); of `others` (the
  /// fds of every other process, OtherHolders.scan) only sockets/pipes the set
  /// holds are kept.
  static func build(procs: [ProcessSnapshot], sockets: SocketTable, others: [OtherHolders.FD]) -> InodeIndex {
    var idx = InodeIndex()
    var wantSockets = Set<UInt64>()
    var wantPipes = Set<UInt64>()
    var wantFIFOLinks = Set<String>()
    for p in procs {
      for f in p.fds {
        switch f.kind {
        case .socket(let ino):
          idx.socketHolders[ino, default: []].append(FDHolder(pid: p.pid, fd: f.fd))
          wantSockets.insert(ino)
          if let peer = f.peerInode { wantSockets.insert(peer) }
        case .pipe(let ino):
          idx.addPipe(ino, FDHolder(pid: p.pid, fd: f.fd), writeOnly: f.writeOnly, readWrite: f.readWrite)
          wantPipes.insert(ino)
          if f.link.hasPrefix("/") { wantFIFOLinks.insert(f.link) }
        default:
          break
        }
      }
      for t in p.threads {
        if let name = t.connectTarget, let ls = sockets.listenersByName[name] { wantSockets.formUnion(ls) }
      }
    }
    for o in others {
      switch o.link {
      case .socket(let ino):
        if wantSockets.contains(ino) { idx.socketHolders[ino, default: []].append(o.holder) }
      case .pipe(let ino):
        guard wantPipes.contains(ino) else { continue }
        let mode = ProcessReader.accessMode(ProcessReader.readFDInfo(pid: o.holder.pid, fd: o.holder.fd))
        idx.addPipe(ino, o.holder, writeOnly: mode == 1, readWrite: mode == 2)
      case .path(let path):
        // Named FIFOs show as paths: stat'ed only when the link is the path
        // of a FIFO the set holds.
        guard wantFIFOLinks.contains(path), let ino = ProcessReader.fifoInode(pid: o.holder.pid, fd: o.holder.fd),
          wantPipes.contains(ino)
        else { continue }
        let mode = ProcessReader.accessMode(ProcessReader.readFDInfo(pid: o.holder.pid, fd: o.holder.fd))
        idx.addPipe(ino, o.holder, writeOnly: mode == 1, readWrite: mode == 2)
      }
    }
    return idx
  }

  /// fdinfo flags: O_WRONLY (1) is the write end, O_RDWR (2) both ends (a
  /// FIFO opened both ways), anything else the read end.
  mutating func addPipe(_ ino: UInt64, _ h: FDHolder, writeOnly: Bool, readWrite: Bool = false) {
    if writeOnly || readWrite { pipeWriters[ino, default: []].append(h) }
    if !writeOnly { pipeReaders[ino, default: []].append(h) }
  }

  /// Holders of the other end of `f`: socket peer holders, or the pipe's opposite direction.
  func peers(of f: FDSnapshot) -> [FDHolder] {
    switch f.kind {
    case .socket:
      guard let peer = f.peerInode else { return [] }
      return socketHolders[peer] ?? []
    case .pipe(let ino):
      return (f.writeOnly ? pipeReaders[ino] : pipeWriters[ino]) ?? []
    default:
      return []
    }
  }
}

/// The fds of every process outside a set that could be the other end of
/// something the set holds: sockets, pipes and paths (a named FIFO shows as
/// its path). One readlink per fd, nothing else: which of them matter is
/// decided by InodeIndex.build.
enum OtherHolders {
  enum Link: Sendable {
    case socket(UInt64)
    case pipe(UInt64)
    case path(String)
  }

  struct FD: Sendable {
    var holder: FDHolder
    var link: Link
  }

  /// The processes are shared out over Threads.lookers threads in small
  /// batches: the cost is one getdents of /proc/PID/fd and one readlink per
  /// fd, in the kernel, and it grows with the machine's processes and fds.
  static func scan(excluding set: Set<Int32>) -> [FD] {
    let pids = ProcFS.listNumeric("/proc").filter { !set.contains($0) && $0 != Syscalls.pid }
    let batch = 8
    let batches = (pids.count + batch - 1) / batch
    let found = Mutex<[[FD]]>(Array(repeating: [], count: batches))
    Threads.forEach(batches) { b in
      var out: [FD] = []
      for pid in pids[(b * batch)..<min(pids.count, (b + 1) * batch)] { scanOne(pid, into: &out) }
      found.withLock { $0[b] = out }
    }
    return found.withLock { $0.flatMap { $0 } }
  }

  private static func scanOne(_ pid: Int32, into out: inout [FD]) {
    for fd in ProcFS.listNumeric("/proc/\(pid)/fd") {
      guard let link = ProcFS.readLink("/proc/\(pid)/fd/\(fd)") else { continue }
      let h = FDHolder(pid: pid, fd: fd)
      if let ino = ProcFS.bracketInode(link, prefix: "socket:[") {
        out.append(FD(holder: h, link: .socket(ino)))
      } else if let ino = ProcFS.bracketInode(link, prefix: "pipe:[") {
        out.append(FD(holder: h, link: .pipe(ino)))
      } else if link.hasPrefix("/") {
        out.append(FD(holder: h, link: .path(link)))
      }
    }
  }
}
