/// Kernel only: blocked reading a pipe or socket whose other end the reader
/// holds itself (an fd kept across fork), so EOF cannot come. In our own
/// actors the teardown's peer wait is PeerWaitInTeardownRule's. A wake-up
/// channel watched by a readiness wait (epoll/poll/select: both ends its
/// own, nobody else's) is how an event loop wakes itself, not a leak; a
/// blocking read on one is (Fixtures/python/leaked_fd.py).
struct LeakedFDRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    let readiness = !SyscallGroups.reads.contains(ctx.syscallName)
    guard let pe = ctx.process, SyscallGroups.readsOrPolls.contains(ctx.syscallName),
      let f = pe.waited.first(where: {
        ($0.isPipe || $0.isSocket) && $0.holders.contains(ctx.pid) && !(readiness && $0.wakeup)
      }),
      !ctx.writesProbes || !ctx.events.contains(where: { $0.site == "wait_for_no_more_peers" })
    else { return nil }
    return Classification(
      .leakedFDHoldsPeerOpen,
      "\(ctx.name) waits for data or EOF on fd \(f.fd) \(f.link), but it holds a copy of the other end itself, so EOF never comes"
    )
  }

  /// Holders of the peer end of this process's sockets other than its own
  /// parent: leaked copies (itself included), each once, in fd order.
  static func leakedHolders(_ ctx: TerminalContext) -> [Int32] {
    guard let pe = ctx.process else { return [] }
    let parent = ctx.actor?.parentPid
    var out: [Int32] = []
    for f in pe.fds where f.isSocket {
      for h in f.holders where h != parent && !out.contains(h) { out.append(h) }
    }
    return out
  }
}
