import MiniJSON
import Supervision
import SystemCore

/// One request on watch's control socket, and its answer.
///
///     {"op":"diagnose","pid":P,"exclude":[P],"kill":true,"label":"tests/test_x.py::test_y",
///      "timeoutMs":5000}
///
/// The verdict covers P and everything below it, as watch's own deadline
/// verdict does (ForeignTreeVerdict over Evidence.collect); a pid in
/// `exclude` (the requesting pytest, which at a test's deadline is only
/// waiting on its children) stays in the evidence, so that its edges show,
/// but is not named a terminal while another process is one. With `kill`,
/// P's descendants are then ended (P itself never). The reply, one line:
///
///     {"ok":true,"class":"blocked-on-full-pipe"|null,"summary":"...","text":"...",
///      "runDir":"...","file":"RUN-DIR/request-<ms>ms.json","killed":[...],"verdict":{...}}
///     {"ok":false,"error":"..."}
public struct WatchControlRequest: Sendable {
  public var pid: Int32
  public var exclude: [Int32]
  public var kill: Bool
  public var label: String
  /// The deadline the client hit (ms), shown as the verdict's timeout.
  public var timeoutMs: Int

  struct Bad: Error { var why: String }

  static func parse(_ line: [UInt8]) -> Result<WatchControlRequest, Bad> {
    guard let j = try? JSONParser.parse(bytes: line), case .object = j else { return .failure(Bad(why: "the request is not a JSON object")) }
    guard j["op"]?.string == "diagnose" else { return .failure(Bad(why: "unknown op (want \"diagnose\")")) }
    guard let pid = j["pid"]?.int, pid > 0, pid <= Int64(Int32.max) else { return .failure(Bad(why: "no valid \"pid\"")) }
    let exclude = (j["exclude"]?.array ?? []).compactMap(\.int).filter { $0 > 0 && $0 <= Int64(Int32.max) }.map { Int32($0) }
    return .success(
      WatchControlRequest(
        pid: Int32(pid), exclude: exclude, kill: j["kill"]?.bool ?? false, label: j["label"]?.string ?? "pid \(pid)",
        timeoutMs: Int(j["timeoutMs"]?.int ?? 0)))
  }

  static func refusal(_ why: String) -> JSONValue { ["ok": false, "error": .string(why)] }

  /// Snapshot, verdict, files, then the kill; the reply.
  func answer(stacks: Bool, runDir: String?, t0: UInt64, render: (Verdict) -> String) -> JSONValue {
    let start = Syscalls.monotonicNs()
    guard ProcessList.state(pid) != nil else { return Self.refusal("no such process: \(pid)") }
    let below = TreeReaper.liveDescendants(of: pid)
    // Stacks of the processes below the requester; its own only when it
    // has nothing below it (then it is the one to look at).
    let stackPids = !stacks ? [] : below.isEmpty ? [pid] : below.filter { !exclude.contains($0) }
    // Python frames of the requester too: they show the test's own line
    // (read with process_vm_readv, which stops nothing).
    let ev = Evidence.collect(pids: [pid], stackPids: stackPids, pythonPids: stacks ? [pid] + below : [], sampleMs: 100)
    var argv: [Int32: [String]] = [:]
    for p in ev.processes.keys { argv[p] = ev.processes[p]?.cmdline }
    var v = ForeignTreeVerdict.build(
      command: [label], evidence: ev, stillRunning: true, commandPid: pid, t0: t0, argv: argv)
    let others = v.terminals.filter { !exclude.contains($0.pid) }
    if !others.isEmpty { v.terminals = others }
    v.timeoutMs = timeoutMs
    v.durationMs = Double(Syscalls.monotonicNs() - start) / 1e6
    let ms = (start &- t0) / 1_000_000
    let file = runDir.map { "\($0)/request-\(ms)ms.json" }
    v.runDir = runDir ?? "-"
    if kill {
      v.killed = TreeReaper.killDescendants(of: pid)
      if !v.killed.isEmpty { v.notes.append("ended \(v.killed.count) process(es) below \(pid) after the snapshot") }
    }
    let text = render(v)
    if let file, let dir = runDir {
      let record: JSONValue = [
        "t": .int(Int64(start)), "reason": "request", "label": .string(label), "pid": .int(Int64(pid)),
        "exclude": .array(exclude.map { .int(Int64($0)) }), "verdict": v.json, "evidence": ev.json,
      ]
      try? Syscalls.writeFile(file, record.pretty + "\n")
      try? Syscalls.writeFile("\(dir)/request-\(ms)ms.txt", text)
    }
    return [
      "ok": true, "class": .from(v.hangClass?.name), "summary": .string(Self.summary(v, pid: pid)), "text": .string(text),
      "runDir": .from(runDir), "file": .from(file), "killed": .array(v.killed.map { .int(Int64($0)) }), "verdict": v.json,
    ]
  }

  /// One line: the first terminal's class and why, e.g.
  /// "blocked-on-full-pipe: python -c is blocked in write(2) on a full pipe: ...".
  public static func summary(_ v: Verdict, pid: Int32) -> String {
    guard let t = v.terminals.first else {
      return "nothing stuck below pid \(pid): \(v.actors.count) process(es), none waiting on another"
    }
    let more = v.terminals.count > 1 ? " (+\(v.terminals.count - 1) more terminal(s))" : ""
    return "\(t.hangClass.name): \(t.explanation) [pid \(t.pid)]" + more
  }
}
