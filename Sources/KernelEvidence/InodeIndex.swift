/// Maps socket and pipe inodes to the (pid, fd) pairs holding them, from one scan of
/// /proc/*/fd over every process on the machine (a peer may live outside the set).
struct InodeIndex: Sendable {
  var socketHolders: [UInt64: [FDHolder]] = [:]
  var pipeReaders: [UInt64: [FDHolder]] = [:]
  var pipeWriters: [UInt64: [FDHolder]] = [:]

  /// `procs` are already read (their fd tables are reused); other processes are scanned
  /// only for sockets/pipes the set could be waiting on.
  static func build(procs: [ProcessSnapshot], sockets: SocketTable, scanOthers: Bool = true) -> InodeIndex {
    var idx = InodeIndex()
    var wantSockets = Set<UInt64>()
    var wantPipes = Set<UInt64>()
    // Named FIFOs show as paths: other processes' fds are stat'ed only when
    // their link is the path of a FIFO the set holds.
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
    let inSet = Set(procs.map { $0.pid })
    for pid in scanOthers ? ProcFS.listNumeric("/proc") : [] where !inSet.contains(pid) {
      for fd in ProcFS.listNumeric("/proc/\(pid)/fd") {
        guard let link = ProcFS.readLink("/proc/\(pid)/fd/\(fd)") else { continue }
        if let ino = ProcFS.bracketInode(link, prefix: "socket:[") {
          if wantSockets.contains(ino) { idx.socketHolders[ino, default: []].append(FDHolder(pid: pid, fd: fd)) }
        } else if let ino = ProcFS.bracketInode(link, prefix: "pipe:[")
          ?? (wantFIFOLinks.contains(link) ? ProcessReader.fifoInode(pid: pid, fd: fd) : nil), wantPipes.contains(ino)
        {
          let info = ProcessReader.readFDInfo(pid: pid, fd: fd)
          let mode = ProcessReader.accessMode(info)
          idx.addPipe(ino, FDHolder(pid: pid, fd: fd), writeOnly: mode == 1, readWrite: mode == 2)
        }
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
