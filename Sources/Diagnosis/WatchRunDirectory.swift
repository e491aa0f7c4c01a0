import Glibc
import KernelEvidence
import MiniJSON
import SystemCore

/// Why a full snapshot was taken during a watched run.
public enum WatchSnapshotReason: String, Sendable {
  /// `--at SECONDS`.
  case at
  /// `--on-stall SECONDS`: nothing moved for that long.
  case stall
  /// Asked for from outside while the command runs.
  case request
}

/// The files of a watched run (the run-directory contract of `watch`):
///   watch.json     {"command", "commandPid", "startNs", "endNs", "commandExitNs",
///                   "outcome", "exitCode", "commandStatus", "timeoutMs",
///                   "sampleMs", "samples", "sampleCpuMs"} (ns on CLOCK_MONOTONIC)
///   verdict.json   the verdict JSON exactly as `watch --format json` prints it
///   evidence.json  the snapshot the verdict was built from (deadline, leak, Ctrl-C),
///                  `{"snapshots": [...]}` as a run dir's
///   samples.jsonl  one light sample per line (`--sample`), see `sampleJSON`
///   snapshot-<ms>ms.json  {"t", "reason": "at|stall|request", "snapshot": <`snapshot --tree --format json`>}
public final class WatchRunDirectory: @unchecked Sendable {
  public let path: String
  private var samples: FileDescriptor = .none

  /// Creates the directory (and its parents).
  public init(path: String) throws(SystemError) {
    self.path = path
    try Syscalls.makeDirectories(path)
  }

  /// The file a snapshot taken `ms` after the start goes to.
  public func snapshotPath(ms: Int) -> String { "\(path)/snapshot-\(ms)ms.json" }

  public func writeSnapshot(ms: Int, t: UInt64, reason: WatchSnapshotReason, snapshot: JSONValue) {
    let j: JSONValue = .object([("t", .int(Int64(t))), ("reason", .string(reason.rawValue)), ("snapshot", snapshot)])
    try? Syscalls.writeFile(snapshotPath(ms: ms), j.pretty + "\n")
  }

  /// Appends one line to samples.jsonl (opened once, O_APPEND).
  public func append(_ s: LightSample) {
    if !samples.isOpen {
      guard let fd = try? Syscalls.open(path + "/samples.jsonl", O_WRONLY | O_CREAT | O_APPEND) else { return }
      samples.replace(with: fd)
    }
    let line = Array((WatchRunDirectory.sampleJSON(s).compact + "\n").utf8)
    line.withUnsafeBytes { try? samples.writeAll($0) }
  }

  /// `{"t", "processes": [{"pid", "ppid", "name", "role", "state", "syscall", "wchan", "cpuNs",
  ///  "waits": [{"kind", "pid", "fd"}]}]}`
  public static func sampleJSON(_ s: LightSample) -> JSONValue {
    .object([
      ("t", .int(Int64(s.t))),
      (
        "processes",
        .array(
          s.processes.map { p in
            .object([
              ("pid", .int(Int64(p.pid))), ("ppid", .int(Int64(p.ppid))), ("name", .string(p.name)),
              ("role", .string(p.role.rawValue)), ("state", .string(String(p.state))), ("syscall", .from(p.syscall)),
              ("wchan", .from(p.wchan)), ("cpuNs", .int(Int64(p.cpuNs))),
              (
                "waits",
                .array(
                  p.waits.map {
                    .object([("kind", .string($0.kind.rawValue)), ("pid", .int(Int64($0.pid))), ("fd", .from($0.fd))])
                  })
              ),
            ])
          })
      ),
    ])
  }

  /// A samples.jsonl line back (compare --watch reads them); nil if damaged.
  public static func sample(json v: JSONValue) -> LightSample? {
    guard let t = v["t"]?.int, let list = v["processes"]?.array else { return nil }
    let ps: [LightSample.Process] = list.compactMap { p in
      guard let pid = p["pid"]?.int else { return nil }
      return LightSample.Process(
        pid: Int32(pid), ppid: Int32(p["ppid"]?.int ?? 0), name: p["name"]?.string ?? "?",
        role: p["role"]?.string.flatMap(ProcessRole.init(rawValue:)) ?? .program,
        state: p["state"]?.string?.first ?? "?", syscall: p["syscall"]?.string, wchan: p["wchan"]?.string,
        cpuNs: UInt64(max(0, p["cpuNs"]?.int ?? 0)),
        waits: (p["waits"]?.array ?? []).compactMap { w in
          guard let k = w["kind"]?.string.flatMap(WaitKind.init(rawValue:)), let to = w["pid"]?.int else { return nil }
          return LightSample.Wait(kind: k, pid: Int32(to), fd: w["fd"]?.int.map { Int32($0) })
        })
    }
    return LightSample(t: UInt64(max(0, t)), processes: ps)
  }

  /// samples.jsonl of a run directory, in order; damaged lines are skipped.
  public static func readSamples(_ dir: String) -> [LightSample] {
    guard let b = Syscalls.readFile(dir + "/samples.jsonl") else { return [] }
    return b.split(separator: UInt8(ascii: "\n")).compactMap { line in
      (try? JSONParser.parse(bytes: Array(line))).flatMap(sample(json:))
    }
  }

  public func writeEvidence(_ ev: Evidence, note: String) {
    var e = ev
    e.notes.insert(note, at: 0)
    let file: JSONValue = ["snapshots": .array([e.json])]
    try? Syscalls.writeFile(path + "/evidence.json", file.pretty + "\n")
  }

  public func writeVerdict(_ json: JSONValue) { try? Syscalls.writeFile(path + "/verdict.json", json.pretty + "\n") }

  public func writeWatch(_ json: JSONValue) { try? Syscalls.writeFile(path + "/watch.json", json.pretty + "\n") }
}
