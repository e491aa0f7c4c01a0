import Glibc
import MiniJSON
import TestSupport
import Testing

@testable import PythonStacks

/// py_trio_tasks.py: a tractor-like stuck teardown, read from outside.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct TrioTaskTests {
  func checkTrio(_ python: String) throws {
    let started = Interpreters.start(python, "py_trio_tasks.py")
    let (tree, pid) = try #require(started, "py_trio_tasks.py under \(python) did not get ready (is trio installed?)")
    defer { tree.cleanup() }
    let snap = PythonStacks.capture(pid: pid)
    #expect(snap.status == .ok, "\(snap.note ?? "")")
    #expect(snap.loop == .trio)
    // The loop's own thread shows only the scheduler: the tasks are not on any stack.
    #expect(snap.threads.first?.frames.contains { $0.function == "run" && $0.file.hasSuffix("trio/_core/_run.py") } == true)
    #expect(snap.threads.first?.frames.contains { $0.function == "stuck_in_shield" } == false)

    let file = Interpreters.fixture("py_trio_tasks.py")
    let all = snap.allTasks
    func task(_ name: String) -> PythonTask? { all.first { $0.name == name } }

    let root = try #require(snap.tasks.first { $0.name == "<init>" })
    let main = try #require(root.children.first { $0.name == "__main__.main" })
    #expect(main.children.map(\.name) == ["event-waiter", "shielded-group"])

    let waiter = try #require(task("event-waiter"))
    #expect(!waiter.shielded && !waiter.cancelCalled)
    let names = waiter.frames.map(\.qualname)
    let wait = try #require(names.firstIndex(of: "Event.wait"))
    #expect(waiter.frames[wait].file.hasSuffix("trio/_sync.py"))
    #expect(waiter.frames.last == PythonFrame(function: "event_waiter", qualname: "event_waiter", file: file, line: 13))
    #expect(wait < names.count - 1)  // innermost first: Event.wait above event_waiter
    // The Event it waits on is main's `never`: the frame that could set it.
    let holder = try #require(waiter.waitingOn?.heldBy.first)
    #expect(waiter.waitingOn?.kind == "trio.Event")
    #expect(waiter.waitingOn?.heldBy.count == 1)
    #expect(holder.task == "__main__.main" && holder.variable == "never" && holder.frame.function == "main")
    #expect(task("shielded-sleeper")?.waitingOn == nil)

    let group = try #require(task("shielded-group"))
    #expect(group.cancelCalled && !group.shielded)
    #expect(group.children.map(\.name) == ["shielded-sleeper"])
    #expect(group.frames.last?.function == "shielded_group")
    #expect(group.frames.contains { $0.qualname == "NurseryManager.__aexit__" })

    let sleeper = try #require(task("shielded-sleeper"))
    #expect(sleeper.shielded && sleeper.cancelCalled)
    #expect(sleeper.frames.map(\.function).suffix(2) == ["sleep_forever", "stuck_in_shield"])
    #expect(sleeper.frames.last?.line == 19)

    // JSON: the shape `snapshot` prints under "python".
    let j = snap.json
    #expect(j["loop"] == "trio")
    let jt = try #require(j["tasks"]?.array?.first { $0["name"] == "<init>" })
    #expect(jt["children"]?.array?.isEmpty == false)
    #expect(jt["frames"]?.array?.first?["file"]?.string != nil)
  }

  /// The project venv is part of the set-up (`make deps`): missing is a failure, not a skip.
  @Test func trio022() throws {
    try checkTrio(try #require(Interpreters.trioPython, Comment(rawValue: Interpreters.trioPythonMissing)))
  }

  @Test(.enabled(if: Interpreters.trio313Python != nil, Comment(rawValue: Interpreters.trio313Missing)))
  func trioNewestOn313() throws { try checkTrio(Interpreters.trio313Python!) }
}
