/// The one place where a probe's `detail` text is read as data. Each
/// parser takes the format the runtime writes at one site and nothing else;
/// display text built here is never parsed back.
public enum ProbeDetail {
  /// `wait_for_no_more_peers ENTER`: `bound=none` or `bound=<N>ms`.
  public enum PeerWaitBound: Equatable, Sendable {
    case unbounded
    case ms(Int)
  }

  public static func peerWaitBound(_ detail: String?) -> PeerWaitBound? {
    guard let d = detail, d.hasPrefix("bound=") else { return nil }
    let v = d.dropFirst("bound=".count)
    if v == "none" { return .unbounded }
    guard v.hasSuffix("ms"), let n = Int(v.dropLast(2)) else { return nil }
    return .ms(n)
  }

  /// `fork FORK`: `threads=<N> child=<name>`.
  public struct Fork: Equatable, Sendable {
    public var threads: Int
    public var child: String?
    public init(threads: Int, child: String?) {
      self.threads = threads
      self.child = child
    }
  }

  public static func fork(_ detail: String?) -> Fork? {
    guard let d = detail else { return nil }
    var threads: Int? = nil
    var child: String? = nil
    for field in d.split(separator: " ") {
      if field.hasPrefix("threads=") { threads = Int(field.dropFirst("threads=".count)) }
      if field.hasPrefix("child=") { child = String(field.dropFirst("child=".count)) }
    }
    return threads.map { Fork(threads: $0, child: child) }
  }

  /// How a child ended, as `nursery REAPED`/`forkserver REAPED` details and
  /// supervisor.json's `reaped` write it: `exit <code>` or
  /// `signal <N> (<NAME>)`; `unknown` and `still running` say nothing.
  public struct ExitStatus: Equatable, Sendable {
    /// As recorded, for people.
    public var text: String
    /// Wait-status code: the exit code, or 128 + the signal number.
    public var code: Int?
    public init(text: String, code: Int?) {
      self.text = text
      self.code = code
    }
  }

  public static func exitStatus(_ detail: String?) -> ExitStatus? {
    guard let d = detail, d != "unknown", d != "still running" else { return nil }
    let parts = d.split(separator: " ")
    var code: Int? = nil
    if parts.count >= 2, let n = Int(parts[1]) {
      if parts[0] == "exit" { code = n } else if parts[0] == "signal" { code = 128 + n }
    }
    return ExitStatus(text: d, code: code)
  }
}
