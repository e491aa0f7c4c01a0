/// In actor main's finally, waiting for peers to disconnect (last
/// `wait_for_no_more_peers` is an ENTER): if anyone but the parent holds the
/// other end of our channel, EOF can never come (leaked-fd-holds-peer-open);
/// else, if the wait has no bound, that is the hang (unbounded-teardown-wait).
/// A bounded wait with no leaked holder ends by itself: not this rule.
struct PeerWaitInTeardownRule: HangRule {
  func classify(_ ctx: TerminalContext) -> Classification? {
    guard let w = ctx.events.last(where: { $0.site == "wait_for_no_more_peers" }), w.event == "ENTER" else { return nil }
    let holders = LeakedFDRule.leakedHolders(ctx)
    if !holders.isEmpty {
      let names = holders.prefix(4).map { $0 == ctx.pid ? "itself (\($0))" : "\(ctx.verdict.name(of: $0)) (\($0))" }
      let more = holders.count > 4 ? " and \(holders.count - 4) more" : ""
      return Classification(
        .leakedFDHoldsPeerOpen,
        "\(ctx.name) waits for its peer channel to close, but \(names.joined(separator: ", "))\(more) also hold(s) the other end, so EOF never comes"
      )
    }
    guard ProbeDetail.peerWaitBound(w.detail) == .unbounded else { return nil }
    return Classification(
      .unboundedTeardownWait, "\(ctx.name) is in actor main's finally, waiting for peers to disconnect, with no bound")
  }
}
