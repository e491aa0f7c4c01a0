import ActorRuntime
import MiniJSON
import Probes
import SystemCore

/// One run of a tree with everything the verdict needs: the supervisor runs
/// it; on a hang, kernel evidence and stacks are taken before the kill; the
/// run directory then holds all the facts, and the verdict is built from it.
public enum DiagnosedRun {
  /// `afterVerdict` gets the files the verdict was built from (a view
  /// written from them, like the trace, need not read them again).
  public static func run(
    _ config: RunConfig, stacks: Bool = true, afterVerdict: ((RunFiles, ProbeLog, Verdict) -> Void)? = nil
  ) -> Verdict {
    // Every stall (up to 4) and the deadline add a snapshot: a hang may be
    // visible at its first stall and already ended by the ladder at the
    // deadline, or the other way round.
    nonisolated(unsafe) var snapshots: [JSONValue] = []
    let collect = { (record: RunRecord, kind: String) in
      var pids = record.aliveAtEnd
      if let r = record.rootPid, !pids.contains(r) { pids.append(r) }
      if let f = record.forkServerPid { pids.append(f) }
      let stackPids = stacks ? record.aliveAtEnd + (record.forkServerPid.map { [$0] } ?? []) : []
      var ev = Evidence.collect(pids: pids, stackPids: stackPids)
      ev.notes.insert("kernel evidence taken at the \(kind)", at: 0)
      snapshots.append(ev.json)
      let file: JSONValue = ["snapshots": .array(snapshots)]
      try? Syscalls.writeFile(config.runDir + "/evidence.json", file.pretty + "\n")
    }
    let sup = RunSupervisor(
      config: config, onHang: { collect($0, $0.timedOut ? "deadline" : "end (processes outlived the root)") },
      onStall: { record in
        guard snapshots.count < 4 else { return }
        collect(record, "stall \(snapshots.count + 1) (no probe for \(RunSupervisor.stallMs) ms)")
      })
    let record = sup.run()
    try? Syscalls.writeFile(config.runDir + "/supervisor.json", RunFiles.supervisorJSON(record).pretty + "\n")
    do {
      let files = try RunFiles.load(config.runDir)
      let log = (try? ProbeLog.read(runDir: config.runDir)) ?? ProbeLog(events: [])
      let v = VerdictBuilder.build(files, log: log)
      afterVerdict?(files, log, v)
      return v
    } catch {
      var v = VerdictBuilder.build(
        RunFiles(
          runDir: config.runDir, scenarioName: config.scenario.name, backend: config.backend, timeoutMs: config.timeoutMs,
          root: config.scenario.root, supervisor: RunFiles.supervisorJSON(record)), log: ProbeLog(events: []))
      v.notes.append("\(error)")
      return v
    }
  }
}
