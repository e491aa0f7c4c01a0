import Glibc
import CSystem
import SystemCore
import TestSupport
import Testing

@testable import NativeStacks

// Helpers: spawn real processes, wait (bounded) for them to block, and always
// kill + reap them.

/// Full path of an executable found in PATH (access X_OK), nil when missing.
/// Spawns with the project's cs_spawn (empty signal mask, default
/// dispositions: the test runner may block or ignore signals), stdout and
/// stderr on /dev/null.
func spawn(_ argv: [String]) -> pid_t? {
  let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
  defer { if devNull >= 0 { close(devNull) } }
  let cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
  defer { for p in cargs { free(p) } }
  var pid: pid_t = 0
  let rc = cs_spawn(&pid, argv[0], cargs, environ, -1, 3, devNull, devNull, 0)
  return rc == 0 ? pid : nil
}

/// poll(2) with no fds as a short sleep inside bounded polling loops.
/// libunwind is a dependency `make deps` installs: without it these tests
/// fail with the reason instead of passing without looking.
func requireLibunwind(sourceLocation: SourceLocation = #_sourceLocation) throws {
  try #require(
    NativeStacks.isAvailable, "libunwind is required (make deps installs it): \(NativeStacks.unavailableReason ?? "")",
    sourceLocation: sourceLocation)
}

func pollSleep(ms: Int32) { _ = poll(nil, 0, ms) }


/// True when /proc/PID has exactly `threads` tasks, each blocked in one of
/// the syscall numbers (first field of /proc/PID/task/TID/syscall), and the
/// process runs `comm` (python3 may be a shell shim that execs it later).
func blocked(_ pid: pid_t, threads: Int, in syscalls: Set<String>, comm: String? = nil) -> Bool {
  if let comm, ProcFiles.trimmed(ProcFiles.read("/proc/\(pid)/comm"))?.hasPrefix(comm) != true { return false }
  guard case .success(let tids) = ProcFiles.tasks(pid), tids.count == threads else { return false }
  for t in tids {
    guard let s = ProcFiles.read("/proc/\(pid)/task/\(t)/syscall"),
      let nr = s.split(separator: " ").first, syscalls.contains(String(nr)),
      ProcFiles.state(pid: pid, tid: t) == "S"
    else { return false }
  }
  return true
}

/// SIGKILL + bounded reap (waitpid WNOHANG polled). Returns true when gone.
@discardableResult
func killAndReap(_ pid: pid_t) -> Bool {
  _ = kill(pid, SIGKILL)
  var status: Int32 = 0
  for _ in 0..<400 {
    let r = waitpid(pid, &status, WNOHANG)
    if r == pid { break }
    if r < 0 && errno == ECHILD { break }  // already reaped (e.g. by a tracer wait)
    if r < 0 && errno == EINTR { continue }
    pollSleep(ms: 5)
  }
  return kill(pid, 0) != 0 && errno == ESRCH
}

func tracerAndState(_ pid: pid_t, _ tid: Int32) -> (tracer: String?, state: String?) {
  let status = ProcFiles.read("/proc/\(pid)/task/\(tid)/status") ?? ""
  var tracer: String? = nil
  var state: String? = nil
  for line in status.split(separator: "\n") {
    if line.hasPrefix("TracerPid:") { tracer = String(line) }
    if line.hasPrefix("State:") { state = String(line) }
  }
  return (tracer, state)
}

/// After a capture: every thread untraced, never left in a ptrace stop ("t"),
/// and back to sleeping (S). Right after PTRACE_DETACH the thread restarts its
/// interrupted syscall and may briefly show R, so poll (bounded) for S.
func expectDetachedAndSleeping(_ pid: pid_t) {
  guard case .success(let tids) = ProcFiles.tasks(pid) else {
    Issue.record("target \(pid) vanished")
    return
  }
  for t in tids {
    let (tracer, state) = tracerAndState(pid, t)
    #expect(tracer == "TracerPid:\t0", "tid \(t): \(tracer ?? "nil")")
    #expect(state?.hasPrefix("State:\tt") == false, "tid \(t): \(state ?? "nil")")
    let sleeping = SpawnedTree.waitUntil(timeoutMs: 2000) { tracerAndState(pid, t).state?.hasPrefix("State:\tS") == true }
    #expect(sleeping, "tid \(t): \(tracerAndState(pid, t).state ?? "nil")")
  }
}

func frameNames(_ t: ThreadStack) -> [String] { t.frames.compactMap(\.symbol) }

@Suite(.serialized, .timeLimit(.minutes(2)))
struct NativeStacksTests {
  @Test func libunwindLoads() {
    #expect(NativeStacks.isAvailable, "\(NativeStacks.unavailableReason ?? "")")
  }

  @Test func sleepBlockedInNanosleep() throws {
    try requireLibunwind()
    let pid = try #require(spawn(["/bin/sleep", "60"]))
    defer { #expect(killAndReap(pid)) }
    // clock_nanosleep = 230, nanosleep = 35 on x86_64
    #expect(SpawnedTree.waitUntil { blocked(pid, threads: 1, in: ["230", "35"]) })
    let s = NativeStacks.capture(pid: pid)
    print(StackText.render(s))
    #expect(s.note == nil)
    #expect(s.threads.count == 1)
    let names = s.threads.flatMap(frameNames)
    #expect(names.contains { $0.contains("nanosleep") }, "\(names)")
    expectDetachedAndSleeping(pid)
  }

  /// A static executable linked by lld (tractor-actor, as the tree keeper):
  /// lld packs segments into shared file pages, and the unwind tables must
  /// still be placed by the segment the text mapping starts at. They once
  /// were 4 KiB off: the stack lost its second frame and stopped before main.
  @Test func staticLldExecutableUnwindsToStart() throws {
    try requireLibunwind()
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/NativeStacksTests/NativeStacksTests.swift
    let actor = parts.joined(separator: "/") + "/.build/debug/tractor-actor"
    try #require(access(actor, X_OK) == 0, "\(actor) not built (swift build --build-tests builds it)")
    let pid = try #require(spawn([actor, "keeper", "--tool", "\(getpid())"]))
    defer { #expect(killAndReap(pid)) }
    // poll = 7 on x86_64: the keeper waits on our pidfd.
    #expect(SpawnedTree.waitUntil { blocked(pid, threads: 1, in: ["7"], comm: "tractor-actor") })
    let s = NativeStacks.capture(pid: pid)
    print(StackText.render(s))
    let names = s.threads.flatMap(frameNames)
    #expect(names.first?.hasPrefix("poll") == true, "\(names)")
    #expect(names.contains { $0.contains("ProcessControl.poll") }, "\(names)")
    #expect(names.contains { $0.contains("TreeKeeper.main") }, "\(names)")
    #expect(names.contains { $0 == "__libc_start_main" || $0 == "_start" }, "\(names)")
    expectDetachedAndSleeping(pid)
  }

  @Test func pythonBlockedInRead() throws {
    try requireLibunwind()
    let py = try #require(SpawnedTree.python, "python3 is required (make deps installs it)")
    let pid = try #require(
      spawn([py, "-c", "import os,sys; r,w=os.pipe(); print('ready', flush=True); os.read(r,1)"]))
    defer { #expect(killAndReap(pid)) }
    #expect(SpawnedTree.waitUntil { blocked(pid, threads: 1, in: ["0"], comm: "python") })
    let s = NativeStacks.capture(pid: pid)
    print(StackText.render(s))
    #expect(s.note == nil)
    let t = try #require(s.threads.first)
    #expect(t.frames.count >= 3)
    #expect(frameNames(t).contains { $0.contains("read") }, "\(frameNames(t))")
    #expect(t.frames.first?.module == "libc.so.6")
    expectDetachedAndSleeping(pid)
    // Capturing twice works the same (nothing left attached).
    let again = NativeStacks.capture(pid: pid)
    #expect(again.threads.first?.frames.isEmpty == false)
    expectDetachedAndSleeping(pid)
  }

  @Test func pythonThreadsOneStackEach() throws {
    try requireLibunwind()
    let py = try #require(SpawnedTree.python, "python3 is required (make deps installs it)")
    let script = """
      import os, threading
      def f():
          r, w = os.pipe(); os.read(r, 1)
      for _ in range(3):
          threading.Thread(target=f, daemon=True).start()
      r, w = os.pipe(); os.read(r, 1)
      """
    let pid = try #require(spawn([py, "-c", script]))
    defer { #expect(killAndReap(pid)) }
    #expect(SpawnedTree.waitUntil { blocked(pid, threads: 4, in: ["0"], comm: "python") })
    let s = NativeStacks.capture(pid: pid)
    print(StackText.render(s))
    #expect(s.note == nil)
    #expect(s.threads.count == 4)
    #expect(Set(s.threads.map(\.tid)).count == 4)
    for t in s.threads {
      #expect(t.note == nil, "\(t.tid): \(t.note ?? "")")
      #expect(frameNames(t).contains { $0.contains("read") }, "\(t.tid): \(frameNames(t))")
    }
    expectDetachedAndSleeping(pid)
  }

  @Test func llvmSymbolizerPass() throws {
    try requireLibunwind()
    try #require(LLVMSymbolizer.path() != nil, "llvm-symbolizer is required (it ships with the Swift toolchain)")
    let pid = try #require(spawn(["/bin/sleep", "60"]))
    defer { #expect(killAndReap(pid)) }
    #expect(SpawnedTree.waitUntil { blocked(pid, threads: 1, in: ["230", "35"]) })
    let s = NativeStacks.capture(pid: pid, symbolizer: .llvmSymbolizer)
    print(StackText.render(s))
    let names = s.threads.flatMap(frameNames)
    #expect(names.contains { $0.contains("nanosleep") }, "\(names)")
    #expect(s.threads.first?.note == nil)
    expectDetachedAndSleeping(pid)
  }

  @Test func missingPidGivesNote() {
    let s = NativeStacks.capture(pid: 0x3FFF_FFF0)
    #expect(s.threads.isEmpty)
    #expect(s.note == "no such process")
  }

  @Test func ownProcessGivesNote() {
    let s = NativeStacks.capture(pid: getpid())
    #expect(s.note?.contains("own process") == true)
    #expect(!s.threads.isEmpty)
    #expect(s.threads.allSatisfy { $0.frames.isEmpty })
  }

  @Test func zombieGivesNote() throws {
    let pid = try #require(spawn(["/bin/sleep", "60"]))
    defer { #expect(killAndReap(pid)) }
    _ = kill(pid, SIGKILL)
    #expect(SpawnedTree.waitUntil { ProcFiles.state(pid: pid, tid: pid) == "Z" })
    let s = NativeStacks.capture(pid: pid)
    print(StackText.render(s))
    #expect(s.note != nil)
    #expect(s.threads.allSatisfy { $0.frames.isEmpty && $0.note != nil })
  }

  @Test func processExitingDuringCapture() throws {
    try requireLibunwind()
    // Short-lived processes captured right after spawn: each capture races
    // the exit. Whatever happens, no crash, no hang, and a result that is
    // either stacks or notes.
    var outcomes: [String: Int] = [:]
    for i in 0..<20 {
      let pid = try #require(spawn(["/bin/sleep", i % 2 == 0 ? "0.001" : "0"]))
      defer { #expect(killAndReap(pid)) }
      let s = NativeStacks.capture(pid: pid)
      let key: String
      if let n = s.note {
        key = n
      } else if let t = s.threads.first, let n = t.note {
        key = "thread: " + n
      } else {
        key = s.threads.contains { !$0.frames.isEmpty } ? "stacks" : "empty"
      }
      outcomes[key, default: 0] += 1
      #expect(s.elapsedNs < 5_000_000_000)
    }
    print("outcomes:", outcomes)
  }

  @Test func threadsComingAndGoingThenExit() throws {
    try requireLibunwind()
    let py = try #require(SpawnedTree.python, "python3 is required (make deps installs it)")
    // Threads start and exit continuously, then the process exits: captures
    // hit threads that vanish between listing, attach, stop and detach.
    let script = """
      import threading, time
      end = time.time() + 0.4
      while time.time() < end:
          ts = [threading.Thread(target=time.sleep, args=(0.001,)) for _ in range(8)]
          [t.start() for t in ts]
          [t.join() for t in ts]
      """
    let pid = try #require(spawn([py, "-c", script]))
    defer { #expect(killAndReap(pid)) }
    #expect(SpawnedTree.waitUntil { ProcFiles.trimmed(ProcFiles.read("/proc/\(pid)/comm"))?.hasPrefix("python") == true })
    var notes: [String: Int] = [:]
    var captures = 0
    while captures < 300 {
      let s = NativeStacks.capture(pid: pid)
      captures += 1
      if let n = s.note { notes[n, default: 0] += 1 }
      for t in s.threads { if let n = t.note { notes[n, default: 0] += 1 } }
      if s.note == "no such process" || s.note == "process exited during capture" { break }
      if ProcFiles.state(pid: pid, tid: pid) == "Z" { break }
    }
    print("captures: \(captures), notes: \(notes)")
    // Whatever is left (zombie or live) is not traced by us.
    if let status = ProcFiles.read("/proc/\(pid)/status") {
      #expect(status.contains("TracerPid:\t0"))
    }
  }

  /// Captures a multi-threaded target again and again (fast and
  /// llvm-symbolizer paths); it must stay running and untraced. The stall
  /// figures are printed; `make bench` is where they are measured.
  @Test func repeatedCapturesLeaveTheTargetRunning() throws {
    try requireLibunwind()
    let py = try #require(SpawnedTree.python, "python3 is required (make deps installs it)")
    let script = """
      import os, threading
      def f():
          r, w = os.pipe(); os.read(r, 1)
      for _ in range(4):
          threading.Thread(target=f, daemon=True).start()
      r, w = os.pipe(); os.read(r, 1)
      """
    let pid = try #require(spawn([py, "-c", script]))
    defer { #expect(killAndReap(pid)) }
    #expect(SpawnedTree.waitUntil { blocked(pid, threads: 5, in: ["0"], comm: "python") })
    for round in 0..<3 {
      let s = NativeStacks.capture(pid: pid)
      let stalls = s.threads.map { "\($0.stallNs / 1000)us" }.joined(separator: " ")
      print(
        "round \(round): elapsed \(s.elapsedNs / 1000)us, attached/unwind \(s.unwindNs / 1000)us, "
          + "symbolize \(s.symbolizeNs / 1000)us, per-thread stall: \(stalls)")
    }
    let l = NativeStacks.capture(pid: pid, symbolizer: .llvmSymbolizer)
    print("llvm-symbolizer: elapsed \(l.elapsedNs / 1000)us, symbolize \(l.symbolizeNs / 1000)us")
    expectDetachedAndSleeping(pid)
  }

  @Test func demangleSwift() {
    let d = Demangle.pretty("$s4main3FooV3baryyF")
    #expect(d == "main.Foo.bar() -> ()")
    #expect(Demangle.pretty("read") == "read")
    #expect(
      Demangle.shortenSwift("generic specialization <Swift.Int> of M.f<A where A: Swift.Equatable>(A) -> ()")
        == "specialized M.f<A>(A) -> ()")
  }

  @Test func renderText() {
    let s = ProcessStacks(
      pid: 7,
      threads: [
        ThreadStack(
          tid: 7, name: "x",
          frames: [StackFrame(pc: 0x1234, symbol: "epoll_wait", offset: 0x10, module: "libc.so.6", moduleOffset: 0x1234)],
          state: "S")
      ])
    let text = StackText.render(s)
    #expect(text.contains("  #0 epoll_wait+0x10 (libc.so.6+0x1234)"))
  }
}
