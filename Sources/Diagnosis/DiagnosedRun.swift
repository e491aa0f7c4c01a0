import ActorRuntime
import MiniJSON
import Probes
import SystemCore

/// One run of a tree with everything the verdict needs: the supervisor runs
/// it; on a hang, kernel evidence and stacks are taken before the kill; the
/// run directory then holds all the facts, and the verdict is built from it.
public enum DiagnosedRun {
  public static func run(_ config: RunConfig, stacks: Bool = true) -> Verdict {
    let sup = RunSupervisor(config: config) { record in
      var pids = record.aliveAtEnd
      if let r = record.rootPid, !pids.contains(r) { pids.append(r) }
      let stackPids = stacks ? record.aliveAtEnd : []
      let ev = Evidence.collect(pids: pids, stackPids: stackPids)
      try? Syscalls.writeFile(config.runDir + "/evidence.json", ev.json.pretty + "\n")
    }
    let record = sup.run()
    try? Syscalls.writeFile(config.runDir + "/supervisor.json", RunFiles.supervisorJSON(record).pretty + "\n")
    do {
      let files = try RunFiles.load(config.runDir)
      let log = (try? ProbeLog.read(runDir: config.runDir)) ?? ProbeLog(events: [])
      return VerdictBuilder.build(files, log: log)
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
