import Glibc
import KernelEvidence
import Testing
import TestSupport

/// The project's .venv (built by `make deps`, which `make test` runs first) and
/// real tractor trees named from their command lines. A missing venv fails these
/// tests: it is part of the set-up, not an optional extra.
private enum Venv {
  static let root: String = {
    // Tests/KernelEvidenceTests/PythonVenvTests.swift -> repo root
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
  }()
  static let python = root + "/.venv/bin/python"
  static var present: Bool { access(python, X_OK) == 0 }
  static let missing: Comment = "no \(python): run `make deps`"
}

@Suite(.serialized, .timeLimit(.minutes(2)))
struct PythonVenvTests {
  @Test func venvImportsTractorAndPinnedTrio() throws {
    try #require(Venv.present, Venv.missing)
    let tree = try #require(SpawnedTree(argv: [
      Venv.python, "-W", "ignore", "-c", "import tractor, trio; print('ready', trio.__version__, flush=True)",
    ]))
    defer { tree.cleanup() }
    // Importing tractor takes ~0.5 s on an idle machine; the poll bound is generous for a loaded one.
    #expect(tree.readLine(timeoutMs: 60_000) == "ready 0.22.2")
    #expect(tree.reap())
  }

  /// The teardown-hang fixture under tractor's `trio` and `spawn` start methods:
  /// the snapshot names the root by its script, the actor by its tractor uid
  /// (trio backend) and multiprocessing's helpers by role (spawn backend).
  @Test(arguments: ["trio", "spawn"])
  func tractorTreeIsNamedFromCmdlines(startMethod: String) throws {
    try #require(Venv.present, Venv.missing)
    let tree = try #require(SpawnedTree(argv: [
      Venv.python, "-W", "ignore", Venv.root + "/Fixtures/python/tractor_teardown_hang.py", "--start-method", startMethod,
    ]))
    defer {
      tree.track(KernelEvidence.descendants(of: tree.pid))
      tree.cleanup()
      #expect(tree.allGone())
    }
    try #require(tree.readLine(timeoutMs: 90_000) == "ready")
    let s = KernelEvidence.snapshot(pids: [tree.pid], includeDescendants: true)
    tree.track(s.processes.map(\.pid))
    let ids = s.processes.compactMap { s.identity(of: $0.pid) }

    #expect(s.identity(of: tree.pid) == ProcessIdentity(name: "tractor_teardown_hang.py", role: .python))
    switch startMethod {
    case "trio":
      #expect(ids.contains(ProcessIdentity(name: "stubborn", role: .tractorActor)))
    default:
      #expect(ids.contains(ProcessIdentity(name: "resource tracker", role: .resourceTracker)))
      #expect(ids.contains(ProcessIdentity(name: "spawn child", role: .spawnChild)))
    }
    // ProcessSnapshot.identity is the argv-only answer: the same here (no fork server).
    for p in s.processes { #expect(p.identity == s.identity(of: p.pid)) }
  }
}
