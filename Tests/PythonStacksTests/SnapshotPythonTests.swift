import KernelEvidence
import MiniJSON
import Reports
import TestSupport
import Testing

@testable import PythonStacks

/// What `snapshot` prints for a Python process (the hook in SnapshotReport).
@Suite(.serialized, .timeLimit(.minutes(1)))
struct SnapshotPythonTests {
  @Test func snapshotShowsThreadsAndTasks() throws {
    let python = try #require(Interpreters.trioPython, Comment(rawValue: Interpreters.trioPythonMissing))
    let started = Interpreters.start(python, "py_trio_tasks.py")
    let (tree, pid) = try #require(started)
    defer { tree.cleanup() }
    var report = SnapshotReport(snapshot: KernelEvidence.snapshot(pids: [pid], includeDescendants: false), requested: [pid], tree: false)
    report.python = PythonStackSession().capture(pids: [pid])

    let proc = try #require(report.json["processes"]?.array?.first)
    let py = try #require(proc["python"])
    #expect(py["loop"] == "trio")
    #expect(py["version"]?.string?.hasPrefix("3.") == true)
    let main = try #require(py["threads"]?.array?.first)
    #expect(main["tid"]?.int == Int64(pid))
    #expect(main["name"] == "MainThread")
    #expect(main["frames"]?.array?.contains { $0["function"] == "run" } == true)
    let text = report.text
    #expect(text.contains("\npython stacks:\npid \(pid) "))
    #expect(text.contains("task shielded-sleeper [shielded, cancel called]"))
    #expect(text.contains("waits on a trio.Event held by task __main__.main in main ("))
    #expect(text.contains("thread \(pid) \"MainThread\":"))
  }

  /// A process that is not Python gets `"python": null` and no text section.
  @Test func nonPythonIsNull() throws {
    let tree = try #require(SpawnedTree(argv: ["/bin/sh", "-c", "echo ready $$; exec sleep 30"]))
    defer { tree.cleanup() }
    let pid = try #require(tree.readReady()?.first)
    var report = SnapshotReport(snapshot: KernelEvidence.snapshot(pids: [pid], includeDescendants: false), requested: [pid], tree: false)
    report.python = PythonStackSession().capture(pids: [pid])
    #expect(report.python[pid]?.status == .notPython)
    #expect(report.json["processes"]?.array?.first?["python"] == .null)
    #expect(!report.text.contains("python stacks:"))
  }
}
