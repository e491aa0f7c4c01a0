import Glibc
import SystemCore
import TestSupport

/// Where the interpreters the tests run live, and why one is missing.
enum Interpreters {
  static let repo: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/PythonStacksTests/Interpreters.swift
    return parts.joined(separator: "/")
  }()

  static func fixture(_ name: String) -> String { "\(repo)/Fixtures/python/\(name)" }

  static func executable(_ path: String) -> String? { access(path, X_OK) == 0 ? path : nil }

  static func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }

  static let home = env("HOME") ?? "/root"

  /// Debian's python3.11 (libpython linked into the executable).
  static let system311 = executable("/usr/bin/python3.11")
  /// pyenv builds (libpython3.X.so shared libraries).
  static func pyenv(_ v: String) -> String? {
    executable("\(home)/.pyenv/versions/\(v)/bin/python\(v.split(separator: ".").prefix(2).joined(separator: "."))")
  }

  /// The project venv's python with trio 0.22.2 (`make deps`), or
  /// TRACTOR_DIAG_TEST_TRIO_PYTHON when set (a scratch venv while developing).
  static let trioPython: String? = env("TRACTOR_DIAG_TEST_TRIO_PYTHON") ?? executable("\(repo)/.venv/bin/python")
  static let trioPythonMissing =
    "no Python with trio 0.22 at \(repo)/.venv/bin/python (run `make deps`) and TRACTOR_DIAG_TEST_TRIO_PYTHON is not set"

  /// A Python 3.13 with the newest trio: TRACTOR_DIAG_TEST_TRIO313_PYTHON, or <repo>/.venv-313/bin/python.
  static let trio313Python: String? = env("TRACTOR_DIAG_TEST_TRIO313_PYTHON") ?? executable("\(repo)/.venv-313/bin/python")
  static let trio313Missing =
    "no Python 3.13 with trio: set TRACTOR_DIAG_TEST_TRIO313_PYTHON or create \(repo)/.venv-313 (python3.13 -m venv; pip install trio)"

  /// A running fixture: started, synchronised on its "ready PID" line, then on every
  /// thread being parked (all in S, none runnable: a thread that gave up the GIL to
  /// block is in futex/epoll, and one waiting for the GIL means another runs).
  static func start(_ python: String, _ script: String) -> (SpawnedTree, Int32)? {
    guard let tree = SpawnedTree(argv: [python, fixture(script)]) else { return nil }
    guard let pids = tree.readReady(), let pid = pids.first else {
      tree.cleanup()
      return nil
    }
    let parked = SpawnedTree.waitUntil(timeoutMs: 10_000) { allParked(pid) }
    guard parked else {
      tree.cleanup()
      return nil
    }
    return (tree, pid)
  }

  static func allParked(_ pid: Int32) -> Bool {
    let tids = Syscalls.listDirectory("/proc/\(pid)/task").compactMap { Int32($0) }
    guard !tids.isEmpty else { return false }
    return tids.allSatisfy { tid in
      guard let stat = SpawnedTree.readProc("/proc/\(pid)/task/\(tid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
      let state = stat[stat.index(close, offsetBy: 2)]
      guard state == "S", let sc = SpawnedTree.readProc("/proc/\(pid)/task/\(tid)/syscall") else { return false }
      let nr = sc.split(separator: " ").first.flatMap { Int($0) }
      return nr == 202 || nr == 232 || nr == 281  // futex, epoll_wait, epoll_pwait
    }
  }
}
