import SystemCore
import TestSupport
import Testing

@testable import PythonStacks

/// Prints what a capture costs (no wall-clock assertion: the machine is shared).
/// Run with `--filter CaptureCost` to read the numbers.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct CaptureCostTests {
  @Test(.enabled(if: Interpreters.system311 != nil, "no /usr/bin/python3.11 on this machine"))
  func costPerProcess() throws {
    let started = Interpreters.start(Interpreters.system311!, "py_threads.py")
    let (tree, pid) = try #require(started)
    defer { tree.cleanup() }
    var t0 = Syscalls.monotonicNs()
    let elf = ELFSymbols.read(path: "/usr/bin/python3.11")
    let elfNs = Syscalls.monotonicNs() - t0
    #expect(elf?.symbols["_PyRuntime"] != nil)
    t0 = Syscalls.monotonicNs()
    let maps = FileMapping.read(pid: pid)
    let mapsNs = Syscalls.monotonicNs() - t0
    #expect(maps?.first?.path == "/usr/bin/python3.11")
    let cold = PythonStacks.capture(pid: pid)
    let session = PythonStackSession()
    _ = session.capture(pid: pid)
    var warm: [UInt64] = []
    var reads = 0
    for _ in 0..<21 {
      let s = session.capture(pid: pid)
      #expect(s.status == .ok)
      warm.append(s.elapsedNs)
      reads = s.reads
    }
    warm.sort()
    session.threadNames = false
    let unnamed = session.capture(pid: pid)
    #expect(unnamed.threads.allSatisfy { $0.name == nil } && unnamed.threads.count == 3)
    print("capture cost without thread names: \(unnamed.elapsedNs / 1000) us, \(unnamed.reads) reads")
    print("capture cost (Debian 3.11, 3 threads): ELF \(elfNs / 1000) us, maps \(mapsNs / 1000) us, cold capture \(cold.elapsedNs / 1000) us, warm median \(warm[10] / 1000) us, \(reads) reads")
  }
}
