import Diagnosis
import MiniJSON
import Probes
import SystemCore

/// The stored run directories under Tests/DiagnosisTests/Runs, turned into
/// verdicts exactly as `report` does (run dirs) or as `watch` does (stored
/// kernel snapshots): files in, verdict out, no process started.
enum StoredRun {
  /// Tests/DiagnosisTests/Runs, from this file's path.
  static let runs: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast()
    return parts.joined(separator: "/") + "/Runs"
  }()

  /// The package root (README.md, docs/).
  static let packageRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()

  struct Missing: Error, CustomStringConvertible {
    var description: String
  }

  static func text(_ path: String) throws -> String {
    guard let b = Syscalls.readFile(path) else { throw Missing(description: "cannot read \(path)") }
    return String(decoding: b, as: UTF8.self)
  }

  static func json(_ path: String) throws -> JSONValue {
    guard let b = Syscalls.readFile(path) else { throw Missing(description: "cannot read \(path)") }
    return try JSONParser.parse(bytes: b)
  }

  /// A run directory's verdict, as `tractor-diag report` builds it.
  static func verdict(run name: String) throws -> Verdict {
    let dir = runs + "/" + name
    let files = try RunFiles.load(dir)
    let log = try ProbeLog.read(runDir: dir)
    return VerdictBuilder.build(files, log: log)
  }

  /// A `watch` verdict from a stored kernel snapshot and the command's facts
  /// (watch.json: command, commandPid, stillRunning), with the progress
  /// samples watch takes when the run stored them (progress.json: pid -> its
  /// ProgressSamples), judged by the same code as live.
  static func verdict(watch name: String) throws -> Verdict {
    let dir = runs + "/" + name
    let snap = StoredSnapshot.kernelSnapshot(try json(dir + "/snapshot.json"))
    let w = try json(dir + "/watch.json")
    var progress: [Int32: Progress] = [:]
    if Syscalls.readFile(dir + "/progress.json") != nil {
      for (k, v) in try json(dir + "/progress.json").object ?? [] {
        guard let pid = Int32(k) else { continue }
        progress[pid] = Progress.judge((v.array ?? []).map(StoredSnapshot.progressSample))
      }
    }
    return ForeignTreeVerdict.build(
      command: (w["command"]?.array ?? []).compactMap(\.string), evidence: Evidence(snapshot: snap, progress: progress),
      stillRunning: w["stillRunning"]?.bool ?? true, commandPid: Int32(w["commandPid"]?.int ?? 0), t0: 0)
  }
}
