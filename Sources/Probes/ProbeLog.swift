import MiniJSON
import SystemCore

/// All probe events of one run, read back from `RUN-DIR/probes/*.jsonl`.
public struct ProbeLog: Sendable {
  public var events: [ProbeEvent]  // sorted by time
  /// Lines that could not be parsed (a torn last line after SIGKILL, or damage).
  public var damagedLines: Int
  public var files: Int

  public init(events: [ProbeEvent], damagedLines: Int = 0, files: Int = 0) {
    self.events = events
    self.damagedLines = damagedLines
    self.files = files
  }

  public enum ReadError: Error, CustomStringConvertible, Sendable {
    case noProbeDirectory(String)
    case unreadable(String)
    public var description: String {
      switch self {
      case .noProbeDirectory(let d): return "no probe logs in \(d) (expected \(d)/probes/*.jsonl)"
      case .unreadable(let d): return "probe logs in \(d) are too damaged to analyse"
      }
    }
  }

  public static func read(runDir: String) throws(ReadError) -> ProbeLog {
    let dir = runDir + "/probes"
    let names = Syscalls.listDirectory(dir).filter { $0.hasSuffix(".jsonl") }.sorted()
    if names.isEmpty { throw .noProbeDirectory(runDir) }
    var events: [ProbeEvent] = []
    var damaged = 0
    for name in names {
      guard let bytes = Syscalls.readFile(dir + "/" + name) else { damaged += 1; continue }
      let file = parse(lines: bytes)
      events += file.events
      damaged += file.damaged
    }
    if events.isEmpty { throw .unreadable(runDir) }
    events.sort { $0.t < $1.t }
    return ProbeLog(events: events, damagedLines: damaged, files: names.count)
  }

  /// One .jsonl file's content: its events (file order) and the lines that
  /// are not one (the reader's parser, on bytes for the fuzzer).
  public static func parse(lines bytes: [UInt8]) -> (events: [ProbeEvent], damaged: Int) {
    var events: [ProbeEvent] = []
    var damaged = 0
    for line in bytes.split(separator: 10, omittingEmptySubsequences: true) {
      if let v = try? JSONParser.parse(bytes: Array(line)), let e = ProbeEvent(json: v) {
        events.append(e)
      } else {
        damaged += 1
      }
    }
    return (events, damaged)
  }

  /// Events per pid, in time order.
  public var byPid: [Int32: [ProbeEvent]] {
    var m: [Int32: [ProbeEvent]] = [:]
    for e in events { m[e.pid, default: []].append(e) }
    return m
  }
}
