import MiniJSON
import SystemCore

extension WatchRun.Outcome {
  /// What `watch --format json` prints and verdict.json holds: the verdict,
  /// with the command and its own status after the outcome.
  public var json: JSONValue {
    var j = verdict.json
    if case .object(var pairs) = j {
      pairs.insert(("commandStatus", commandStatus.map { .int(Int64($0.code)) } ?? .null), at: 2)
      pairs.insert(("command", .array((verdict.command ?? []).map { .string($0) })), at: 2)
      j = .object(pairs)
    }
    return j
  }

  /// watch.json: the run's facts on the probes' clock, for tools that line
  /// samples and snapshots up with the run.
  public func watchJSON(timeoutMs: Int) -> JSONValue {
    .object([
      ("command", .array((verdict.command ?? []).map { .string($0) })), ("commandPid", .from(commandPid)),
      ("startNs", .int(Int64(startNs))), ("endNs", .int(Int64(endNs))),
      ("commandExitNs", commandExitNs.map { .int(Int64($0)) } ?? .null),
      ("outcome", .string(verdict.interrupted != nil ? "interrupted" : verdict.outcome)),
      ("exitCode", .int(Int64(verdict.exitCode))), ("commandStatus", commandStatus.map { .int(Int64($0.code)) } ?? .null),
      ("timeoutMs", .int(Int64(timeoutMs))), ("sampleMs", .from(recorder?.schedule.sampleMs)),
      ("samples", .int(Int64(recorder?.samples ?? 0))),
      ("sampleCpuMs", recorder?.sampleCpuMs.map { .double(($0 * 1000).rounded() / 1000) } ?? .null),
      (
        "snapshots",
        .array(
          (recorder?.snapshots ?? []).map {
            .object([("ms", .int(Int64($0.ms))), ("reason", .string($0.reason.rawValue))])
          })
      ),
    ])
  }
}

extension WatchRunDirectory {
  /// verdict.json and watch.json at the end of the run.
  public func write(_ o: WatchRun.Outcome, timeoutMs: Int) {
    writeVerdict(o.json)
    writeWatch(o.watchJSON(timeoutMs: timeoutMs))
  }
}
