/// One entry of /proc/PID/fd with its fdinfo-derived details.
public struct FDSnapshot: Sendable {
  public var fd: Int32
  /// readlink(2) of /proc/PID/fd/N.
  public var link: String
  public var kind: FDKind
  /// fdinfo "flags:" has O_WRONLY (only read for pipes).
  public var writeOnly: Bool
  /// fdinfo "flags:" has O_RDWR (a FIFO opened both ways): reader and writer.
  public var readWrite = false
  /// Who holds the other end: the sock_diag peer inode's holders, or for a pipe the
  /// holders of the opposite direction. May include processes outside the snapshot set.
  public var peers: [FDHolder]
  /// Bytes queued for reading on a socket (UNIX_DIAG_RQLEN rqueue); pending connections on a listener.
  public var queued: UInt32?
  /// sock_diag peer inode of a socket (0/nil if unconnected).
  public var peerInode: UInt64?
  /// sock_diag state of a socket (10 = listening).
  public var socketState: UInt8?
  /// sock_diag bound name of a Unix socket ("@x" for abstract names); for a
  /// TCP socket its ends, "tcp A -> B" or "tcp A (listening)".
  public var socketName: String?
  /// The socket is TCP (IPv4 or IPv6), not Unix.
  public var socketIsTCP = false
  /// For an epoll fd: the watched fds registered for EPOLLOUT without EPOLLIN.
  public var epollWriteOnly: [Int32] = []
  /// A wake-up channel: a socket or pipe end whose other end(s) only this
  /// same process holds (asyncio's self-pipe socketpair, trio's two
  /// WakeupSocketpairs, multiprocessing's signal wake-up pipe), or an
  /// eventfd/timerfd/signalfd. Watched by a readiness wait (epoll, poll,
  /// select) it is no wait on anyone; a blocking read on it alone never
  /// returns (an fd kept across fork: Fixtures/python/leaked_fd.py).
  public var wakeup = false

  /// Whether `peers` (already attached) make this a wake-up channel.
  public func isWakeup(ownPid: Int32) -> Bool {
    switch kind {
    case .socket, .pipe: return !peers.isEmpty && peers.allSatisfy { $0.pid == ownPid }
    case .other(let link): return FDSnapshot.eventLinks.contains(link)
    default: return false
    }
  }

  /// Kernel objects only their owner signals (and a signal, a timer).
  static let eventLinks: Set<String> = ["anon_inode:[eventfd]", "anon_inode:[timerfd]", "anon_inode:[signalfd]"]

  public init(fd: Int32, link: String, kind: FDKind, writeOnly: Bool = false, peers: [FDHolder] = [],
              queued: UInt32? = nil, peerInode: UInt64? = nil, socketState: UInt8? = nil,
              socketName: String? = nil) {
    self.fd = fd
    self.link = link
    self.kind = kind
    self.writeOnly = writeOnly
    self.peers = peers
    self.queued = queued
    self.peerInode = peerInode
    self.socketState = socketState
    self.socketName = socketName
  }
}
