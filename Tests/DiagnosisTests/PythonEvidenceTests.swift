import Diagnosis
import MiniJSON
import Testing

/// The Python view of stuck processes in evidence.json: read back as it was
/// written, and the verdict built from it names a shielded task after its cancel.
@Suite(.timeLimit(.minutes(1)))
struct PythonEvidenceTests {
  static func frame(_ fn: String, _ file: String, _ line: Int) -> JSONValue {
    ["function": .string(fn), "qualname": .string(fn), "file": .string(file), "line": .int(Int64(line))]
  }

  static func task(_ name: String, _ frames: [JSONValue], shielded: Bool, cancelCalled: Bool, waitingOn: JSONValue = .null)
    -> JSONValue
  {
    [
      "name": .string(name), "frames": .array(frames), "shielded": .bool(shielded), "cancelCalled": .bool(cancelCalled),
      "children": .array([]), "waitingOn": waitingOn,
    ]
  }

  /// Two foreign processes in a wait cycle (tractor's shape): 10 waits for the exit
  /// of 11, 11 listens on its channel to 10; 11 is a trio process
  /// with `keep_waiting` shielded after its cancel, and a task waiting on an
  /// Event held by a frame of another task.
  static let evidence: JSONValue = {
    let traps = frame("_async_yield", "/v/lib/python3.11/site-packages/trio/_core/_traps.py", 22)
    let own = frame("keep_waiting", "/src/app.py", 31)
    let holder: JSONValue = [
      "kind": "trio.Event",
      "heldBy": .array([["task": "setter", "tid": .null, "frame": frame("maybe_set", "/src/app.py", 40), "variable": "ev"]]),
    ]
    let py: JSONValue = [
      "version": "3.11.2", "status": "ok", "loop": "trio", "note": .null, "elapsedMs": .double(0.5), "reads": 100, "attempts": 1,
      "threads": .array([["tid": 11, "name": "MainThread", "frames": .array([frame("run", "/v/trio/_core/_run.py", 2087)])]]),
      "tasks": .array([
        [
          "name": "<init>", "frames": .array([]), "shielded": false, "cancelCalled": false, "waitingOn": .null,
          "children": .array([
            task("waiter", [traps, frame("Event.wait", "/v/lib/python3.11/site-packages/trio/_sync.py", 76)],
              shielded: false, cancelCalled: false, waitingOn: holder),
            task("keep_waiting", [traps, own], shielded: true, cancelCalled: true),
          ]),
        ]
      ]),
    ]
    let proc = { (pid: Int64, ppid: Int64) -> JSONValue in
      [
        "pid": .int(pid), "ppid": .int(ppid), "comm": "python", "state": "S", "threads": 1, "syscall": "epoll_wait",
        "syscallName": "epoll_wait", "fds": .array([]), "waitFds": .array([]), "stack": .array([]),
      ]
    }
    return [
      "takenAtNs": 1, "processes": .array([proc(10, 1), proc(11, 10)]),
      "edges": .array([
        ["from": 10, "to": 11, "kind": "waits-exit-of", "evidence": "pidfd"],
        ["from": 11, "to": 10, "kind": "waits-data-from", "evidence": "its channel to the parent"],
      ]),
      "chains": .array([]), "cycles": .array([.array([10, 11])]), "unexplained": .object([]),
      "python": .object([("11", py)]),
    ]
  }()

  @Test func storedPythonViewRoundTripsAndNamesTheShieldedTask() throws {
    let ev = Evidence.load(json: Self.evidence)
    // Written again, read again: the same Python view (what `report` rebuilds from).
    let again = Evidence.load(json: try JSONParser.parse(ev.json.pretty))
    for e in [ev, again] {
      let v = ForeignTreeVerdict.build(command: ["x"], evidence: e, stillRunning: true, commandPid: 10, t0: 0)
      let t = try #require(v.terminals.first { $0.pid == 11 })
      #expect(t.hangClass == .uncancellableTask)
      #expect(t.explanation.contains("keep_waiting") && t.explanation.contains("app.py:31"), "\(t.explanation)")
      #expect(t.evidence.contains { $0.contains("task keep_waiting [shielded, cancel called]") }, "\(t.evidence)")
      #expect(t.evidence.contains { $0.contains("waiter waits on a trio.Event held by task setter in maybe_set (/src/app.py:40) as ev") },
        "\(t.evidence)")
      // 11 listens on its channel to 10, which waits for its exit: one chain
      // 10 -> 11 ending at the stuck task's process, no cycle (CancelListener).
      #expect(v.waitChains == [[10, 11]] && v.cycles.isEmpty, "\(v.waitChains) \(v.cycles)")
      #expect(v.terminals.map(\.pid) == [11])
      let b = try #require(v.json["blockedOn"]?.array?.first { $0["pid"]?.int == 11 })
      let tasks = b["python"]?["tasks"]?.array ?? []
      #expect(tasks.first?["name"]?.string == "keep_waiting", "the uncancellable task first: \(tasks)")
      #expect(tasks.first?["shielded"]?.bool == true && tasks.first?["cancelCalled"]?.bool == true)
      #expect(b["python"]?["mainThread"]?.array?.first?["function"]?.string == "run")
      #expect(v.json["blockedOn"]?.array?.first { $0["pid"]?.int == 10 }?["python"] == .null, "10 is not Python")
    }
  }

  /// A task shielded without a cancel (tractor's own message loop) is no cause.
  @Test func shieldWithoutCancelIsNotUncancellable() throws {
    var j = Self.evidence
    let text = j.compact.replacing("\"cancelCalled\":true", with: "\"cancelCalled\":false")
    j = try JSONParser.parse(text)
    let v = ForeignTreeVerdict.build(command: ["x"], evidence: Evidence.load(json: j), stillRunning: true, commandPid: 10, t0: 0)
    #expect(v.terminals.first { $0.pid == 11 }?.hangClass != .uncancellableTask)
  }
}
