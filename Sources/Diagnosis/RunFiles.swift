import ActorRuntime
import MiniJSON
import SystemCore

/// The files of a run directory, so that `report` derives the same verdict
/// offline as the live run did:
///   run.json         what was asked (scenario tree, backend, bounds, expectations)
///   probes/PID.jsonl probe events, one file per process
///   supervisor.json  what the supervisor saw (deadline, root outcome, kills)
///   evidence.json    kernel snapshot and native stacks taken before the kill
public struct RunFiles: Sendable {
  public var runDir: String
  public var scenarioName: String
  public var backend: String
  public var timeoutMs: Int
  public var root: ActorSpec
  public var expectOutcome: String?
  public var expectRootError: String?
  public var expectRootErrorCount: Int?
  public var supervisor: JSONValue?
  public var evidence: JSONValue?

  public struct LoadError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  public static func load(_ dir: String) throws(LoadError) -> RunFiles {
    guard let bytes = Syscalls.readFile(dir + "/run.json") else {
      throw LoadError(description: "\(dir) is not a run directory (no run.json)")
    }
    let v: JSONValue
    do { v = try JSONParser.parse(bytes: bytes) } catch { throw LoadError(description: "\(dir)/run.json: \(error)") }
    guard let rootJ = v["root"], let root = try? ScenarioParser.node(rootJ, path: "$.root", defaultRole: "root") else {
      throw LoadError(description: "\(dir)/run.json: no valid actor tree under \"root\"")
    }
    var f = RunFiles(
      runDir: dir, scenarioName: v["scenario"]?.string ?? "?", backend: v["backend"]?.string ?? "?",
      timeoutMs: Int(v["timeoutMs"]?.int ?? 0), root: root, expectOutcome: v["expect"]?.string,
      expectRootError: v["expectRootError"]?.string, expectRootErrorCount: v["expectRootErrorCount"]?.int.map { Int($0) })
    if let s = Syscalls.readFile(dir + "/supervisor.json") {
      f.supervisor = try? JSONParser.parse(bytes: s)
      if f.supervisor == nil { throw LoadError(description: "\(dir)/supervisor.json is damaged") }
    }
    if let e = Syscalls.readFile(dir + "/evidence.json") { f.evidence = try? JSONParser.parse(bytes: e) }
    return f
  }

  public static func supervisorJSON(_ r: RunRecord) -> JSONValue {
    [
      "supervisorPid": .int(Int64(r.supervisorPid)), "rootPid": .from(r.rootPid), "forkServerPid": .from(r.forkServerPid),
      "rootError": r.rootError.map(\.json) ?? .null, "rootValue": .from(r.rootValue),
      "rootStatus": r.rootStatus.map { .string("\($0)") } ?? .null, "timedOut": .bool(r.timedOut),
      "interrupted": .from(r.interrupted), "aliveAtEnd": .array(r.aliveAtEnd.map { .int(Int64($0)) }),
      "killed": .array(r.killed.map { .int(Int64($0)) }), "survivors": .array(r.survivors.map { .int(Int64($0)) }),
      "startNs": .int(Int64(r.startNs)), "rootDoneNs": .from(r.rootDoneNs.map { Int64($0) }),
      "endNs": .int(Int64(r.endNs)), "startError": .from(r.startError),
      "reaped": .object(r.reaped.sorted { $0.key < $1.key }.map { (String($0.key), .string("\($0.value)")) }),
    ]
  }
}
