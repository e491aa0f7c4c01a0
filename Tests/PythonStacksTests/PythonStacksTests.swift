import Glibc
import MiniJSON
import SystemCore
import TestSupport
import Testing

@testable import PythonStacks

/// Real interpreters running Fixtures/python/py_*.py, read from outside.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PythonThreadTests {
  /// py_threads.py: MainThread in main_waits, "lock-waiter" in blocked_on_lock,
  /// "event-waiter" in blocked_on_event (Event.wait above it), exact lines.
  func checkThreads(_ python: String, version: String) throws {
    let started = Interpreters.start(python, "py_threads.py")
    let (tree, pid) = try #require(started, "py_threads.py under \(python) did not get ready")
    defer { tree.cleanup() }
    let snap = PythonStacks.capture(pid: pid)
    #expect(snap.status == .ok, "\(snap.note ?? "")")
    #expect(snap.version?.hasPrefix(version) == true, "version \(snap.version ?? "nil")")
    #expect(snap.threads.count == 3)
    #expect(snap.loop == nil)
    let file = Interpreters.fixture("py_threads.py")
    func thread(_ name: String) -> PythonThread? { snap.threads.first { $0.name == name } }

    let main = try #require(thread("MainThread"))
    #expect(main.tid == pid)
    #expect(main.frames.map(\.function).suffix(3) == ["main_waits", "main", "<module>"])
    #expect(main.frames.first { $0.function == "main_waits" } == PythonFrame(function: "main_waits", qualname: "main_waits", file: file, line: 18))
    #expect(main.frames.first?.qualname == "Condition.wait")

    let lock = try #require(thread("lock-waiter"))
    #expect(lock.frames.first == PythonFrame(function: "blocked_on_lock", qualname: "blocked_on_lock", file: file, line: 9))
    #expect(lock.frames.last?.qualname == "Thread._bootstrap")
    #expect(lock.tid != pid)

    let ev = try #require(thread("event-waiter"))
    #expect(ev.frames.map(\.qualname).prefix(3) == ["Condition.wait", "Event.wait", "blocked_on_event"])
    #expect(ev.frames.first { $0.function == "blocked_on_event" }?.line == 14)
    #expect(ev.frames.first?.file.hasSuffix("threading.py") == true)
  }

  @Test(.enabled(if: Interpreters.system311 != nil, "no /usr/bin/python3.11 on this machine"))
  func debianPython311() throws { try checkThreads(Interpreters.system311!, version: "3.11.") }

  @Test(.enabled(if: Interpreters.pyenv("3.11.7") != nil, "no pyenv 3.11.7 (~/.pyenv/versions/3.11.7)"))
  func pyenvPython311() throws { try checkThreads(Interpreters.pyenv("3.11.7")!, version: "3.11.7") }

  @Test(.enabled(if: Interpreters.pyenv("3.12.1") != nil, "no pyenv 3.12.1 (~/.pyenv/versions/3.12.1)"))
  func pyenvPython312() throws { try checkThreads(Interpreters.pyenv("3.12.1")!, version: "3.12.1") }

  @Test(.enabled(if: Interpreters.pyenv("3.13.0") != nil, "no pyenv 3.13.0 (~/.pyenv/versions/3.13.0)"))
  func pyenvPython313() throws { try checkThreads(Interpreters.pyenv("3.13.0")!, version: "3.13.0") }

  /// A CPython we have no layout for is a typed note, not a crash or a guess.
  @Test(.enabled(if: Interpreters.pyenv("3.10.13") != nil, "no pyenv 3.10.13 (an unsupported version to test with)"))
  func unknownVersionIsANote() throws {
    let started = Interpreters.start(Interpreters.pyenv("3.10.13")!, "py_threads.py")
    let (tree, pid) = try #require(started)
    defer { tree.cleanup() }
    let snap = PythonStacks.capture(pid: pid)
    #expect(snap.status == .unsupportedVersion)
    #expect(snap.version?.hasPrefix("3.10") == true)
    #expect(snap.threads.isEmpty)
    #expect(snap.note?.contains("3.11") == true)
  }

  /// Python 2 has no _PyRuntime at all: still "a Python we do not know", not "not Python".
  @Test(.enabled(if: Interpreters.pyenv("2.7.18") != nil, "no pyenv 2.7.18 (~/.pyenv/versions/2.7.18)"))
  func python2IsUnsupported() throws {
    let script = "import os, sys, time; print('ready %d' % os.getpid()); sys.stdout.flush(); time.sleep(60)"
    let tree = try #require(SpawnedTree(argv: [Interpreters.pyenv("2.7.18")!, "-c", script]))
    defer { tree.cleanup() }
    let pid = try #require(tree.readReady()?.first)
    let snap = PythonStacks.capture(pid: pid)
    #expect(snap.status == .unsupportedVersion)
    #expect(snap.note?.contains("_PyRuntime") == true)
  }

  @Test func notPythonAndGone() {
    // The test runner itself: a Swift binary, no _PyRuntime.
    let me = PythonStacks.capture(pid: getpid())
    #expect(me.status == .notPython)
    #expect(me.json["threads"] == .array([]))
    // A pid that cannot exist (above pid_max's ceiling of 2^22).
    #expect(PythonStacks.capture(pid: 5_000_000).status == .gone)
  }

  /// CPython's str hash with a zero key equals `PYTHONHASHSEED=0 python3.11 -c 'print(hash(s))'`
  /// (values taken from Debian's 3.11.2 and pyenv's 3.13.0, which agree).
  @Test func strHashMatchesCPython() {
    let cases: [(String, Int64)] = [
      ("threading", -217255072549013292), ("_active", -8459328279367953207), ("asyncio.tasks", -2143342753280734974),
      ("", 0), ("a", 4644417185603328019), ("abcdefgh", 4574395652268504554), ("abcdefghi", -532774252720507163),
    ]
    for (s, h) in cases { #expect(StrHash.siphash13(k0: 0, k1: 0, Array(s.utf8)) == h, "\(s)") }
  }

  /// The location table decoder on a hand-made table: kinds 0-9 (short, same line),
  /// 10-12 (one-line), 13 (no columns), 14 (long), 15 (no location).
  @Test func locationTable() {
    let table: [UInt8] = [
      0x80 | (0 << 3) | 1, 0x00,  // short form, 2 units, line 10
      0x80 | (11 << 3) | 0, 0, 0,  // one-line form, +1 -> 11, 1 unit
      0x80 | (13 << 3) | 2, 6,  // no-column form, +3 -> 14, 3 units
      0x80 | (15 << 3) | 0,  // no location, 1 unit
      0x80 | (14 << 3) | 0, 3, 0, 0, 0,  // long form, -1 -> 13, 1 unit
    ]
    let lines = (0..<9).map { PythonReader.line(linetable: table, firstLine: 10, index: $0) }
    #expect(lines == [10, 10, 11, 14, 14, 14, nil, 13, nil])
  }
}

/// A target whose frames change under us while we read.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct RunningTargetTests {
  /// Every capture is either a consistent stack (only the fixture's own functions,
  /// outermost `<module>`) or a typed `unreadable`: never garbage, never a crash.
  @Test(.enabled(if: Interpreters.system311 != nil, "no /usr/bin/python3.11 on this machine"))
  func busyTargetGivesConsistentStacksOrANote() throws {
    let tree = try #require(SpawnedTree(argv: [Interpreters.system311!, Interpreters.fixture("py_busy.py")]))
    defer { tree.cleanup() }
    let pid = try #require(tree.readReady()?.first)
    let session = PythonStackSession()
    var ok = 0
    for _ in 0..<50 {
      let snap = session.capture(pid: pid)
      #expect(snap.status == .ok || snap.status == .unreadable, "\(snap.status) \(snap.note ?? "")")
      guard snap.status == .ok, let t = snap.threads.first else { continue }
      ok += 1
      let names = Set(t.frames.map(\.function))
      #expect(names.isSubset(of: ["recurse", "churn", "<module>"]), "\(names)")
      #expect(t.frames.last?.function == "<module>")
      #expect(t.frames.count <= 43)
    }
    // A snapshot of a running target mostly succeeds (the retries absorb the rest).
    #expect(ok >= 25, "only \(ok) of 50 captures were consistent")
  }
}
