import ActorRuntime
import MiniJSON

/// supervisor.json, read once: what the supervisor saw of a run.
struct SupervisorFacts {
  var supervisorPid: Int32?
  var forkServerPid: Int32?
  var startNs: UInt64?
  var endNs: UInt64?
  var timedOut = false
  var interrupted: Int32?
  var aliveAtEnd: [Int32] = []
  var survivors: [Int32] = []
  var killed: [Int32] = []
  var rootError: ErrorInfo?
  var rootValue: String?
  var startError: String?
  /// Exit statuses the supervisor reaped, by pid.
  var reaped: [Int32: ProbeDetail.ExitStatus] = [:]

  init(_ sup: JSONValue?) {
    guard let sup else { return }
    func pid(_ k: String) -> Int32? { sup[k]?.int.map { Int32($0) } }
    func pids(_ k: String) -> [Int32] { (sup[k]?.array ?? []).compactMap { $0.int.map { Int32($0) } } }
    supervisorPid = pid("supervisorPid")
    forkServerPid = pid("forkServerPid")
    startNs = sup["startNs"]?.int.map { UInt64($0) }
    endNs = sup["endNs"]?.int.map { UInt64($0) }
    timedOut = sup["timedOut"]?.bool ?? false
    interrupted = pid("interrupted")
    aliveAtEnd = pids("aliveAtEnd")
    survivors = pids("survivors")
    killed = pids("killed")
    rootError = sup["rootError"].flatMap(ErrorInfo.init(json:))
    rootValue = sup["rootValue"]?.string
    startError = sup["startError"]?.string
    for (k, v) in sup["reaped"]?.object ?? [] {
      if let p = Int32(k), let st = ProbeDetail.exitStatus(v.string) { reaped[p] = st }
    }
  }
}
