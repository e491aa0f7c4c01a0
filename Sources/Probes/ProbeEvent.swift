import MiniJSON

/// One probe event: what one actor process reached, and when.
///
/// Log format (documented in README "Probe log format"): one JSON object per
/// line in `RUN-DIR/probes/PID.jsonl`:
/// `{"t":NS,"pid":P,"actor":"NAME","site":"SITE","ev":"EVENT","peer":PID?,"detail":"TEXT"?}`
/// `t` is CLOCK_MONOTONIC in ns, comparable across the processes of one run.
public struct ProbeEvent: Sendable, Equatable {
  public var t: UInt64
  public var pid: Int32
  public var actor: String
  public var site: String
  public var event: String
  public var peer: Int32?
  public var detail: String?

  public init(t: UInt64, pid: Int32, actor: String, site: String, event: String, peer: Int32? = nil, detail: String? = nil) {
    self.t = t
    self.pid = pid
    self.actor = actor
    self.site = site
    self.event = event
    self.peer = peer
    self.detail = detail
  }

  /// The log line, exactly as ProbeWriter writes it (long fields cut alike).
  public var line: String {
    let buf = UnsafeMutablePointer<UInt8>.allocate(capacity: ProbeLine.capacity)
    defer { buf.deallocate() }
    let n = ProbeLine.build(into: buf, t: t, pid: pid, actor: actor, site: site, event: event, peer: peer, detail: detail)
    return String(decoding: UnsafeBufferPointer(start: buf, count: n), as: UTF8.self)
  }

  public init?(json v: JSONValue) {
    guard let t = v["t"]?.int, let pid = v["pid"]?.int, let actor = v["actor"]?.string,
      let site = v["site"]?.string, let ev = v["ev"]?.string
    else { return nil }
    self.init(
      t: UInt64(max(0, t)), pid: Int32(truncatingIfNeeded: pid), actor: actor, site: site, event: ev,
      peer: v["peer"]?.int.map { Int32(truncatingIfNeeded: $0) }, detail: v["detail"]?.string)
  }
}

/// Event names used at instrumented sites.
public enum ProbeKind {
  public static let enter = "ENTER"
  public static let returned = "RETURN"
  public static let cancelled = "CANCELLED"
  public static let finally = "FINALLY"
  public static let exit = "EXIT"
}
