import Testing

@testable import PythonStacks

/// py_asyncio_tasks.py under each CPython here: pending tasks with names and await chains.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct AsyncioTaskTests {
  func checkAsyncio(_ python: String) throws {
    let started = Interpreters.start(python, "py_asyncio_tasks.py")
    let (tree, pid) = try #require(started, "py_asyncio_tasks.py under \(python) did not get ready")
    defer { tree.cleanup() }
    let snap = PythonStacks.capture(pid: pid)
    #expect(snap.status == .ok, "\(snap.note ?? "")")
    #expect(snap.loop == .asyncio)
    let file = Interpreters.fixture("py_asyncio_tasks.py")
    #expect(snap.tasks.map(\.name) == ["Task-1", "cancel-ignorer", "event-waiter", "sleeper"])
    func task(_ name: String) -> PythonTask? { snap.tasks.first { $0.name == name } }

    let waiter = try #require(task("event-waiter"))
    #expect(waiter.frames.map(\.qualname) == ["Event.wait", "waits_on_event"])
    #expect(waiter.frames.first?.file.hasSuffix("asyncio/locks.py") == true)
    #expect(waiter.frames.last == PythonFrame(function: "waits_on_event", qualname: "waits_on_event", file: file, line: 10))
    #expect(!waiter.cancelCalled && !waiter.shielded)
    #expect(waiter.waitingOn?.kind == "asyncio.Event")
    #expect(waiter.waitingOn?.heldBy.map(\.variable) == ["ev"])
    #expect(waiter.waitingOn?.heldBy.first?.task == "Task-1")

    let sleeper = try #require(task("sleeper"))
    #expect(sleeper.frames.map(\.function) == ["sleep", "sleeper"])

    let ignorer = try #require(task("cancel-ignorer"))
    #expect(ignorer.cancelCalled)
    #expect(ignorer.frames.map(\.qualname) == ["Event.wait", "ignores_cancel"])
    #expect(ignorer.frames.last?.line == 23)
    // It waits on an Event created in place: nobody else holds it.
    #expect(ignorer.waitingOn?.kind == "asyncio.Event")
    #expect(ignorer.waitingOn?.heldBy.isEmpty == true)

    #expect(task("Task-1")?.frames.map(\.function) == ["main"])
  }

  @Test(.enabled(if: Interpreters.system311 != nil, "no /usr/bin/python3.11 on this machine"))
  func debian311() throws { try checkAsyncio(Interpreters.system311!) }

  @Test(.enabled(if: Interpreters.pyenv("3.12.1") != nil, "no pyenv 3.12.1 (~/.pyenv/versions/3.12.1)"))
  func pyenv312() throws { try checkAsyncio(Interpreters.pyenv("3.12.1")!) }

  @Test(.enabled(if: Interpreters.pyenv("3.13.0") != nil, "no pyenv 3.13.0 (~/.pyenv/versions/3.13.0)"))
  func pyenv313() throws { try checkAsyncio(Interpreters.pyenv("3.13.0")!) }
}
