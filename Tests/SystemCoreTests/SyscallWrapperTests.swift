import Glibc
import SystemCore
import Testing

/// The one EINTR / would-block rule of the system layer, checked on scripted
/// return values (errno set as a failing syscall sets it) and on real fds.
@Suite(.timeLimit(.minutes(1))) struct SyscallWrapperTests {
  /// A fake syscall: returns the scripted results in order, setting errno
  /// for each -1, and counts its calls.
  final class Script {
    var steps: [(Int, Int32)]
    var calls = 0
    init(_ steps: [(Int, Int32)]) { self.steps = steps }
    func call() -> Int {
      let (rc, e) = steps[calls]
      calls += 1
      if rc == -1 { Glibc.errno = e }
      return rc
    }
  }

  @Test func eintrIsRetriedThenTheResultReturned() throws {
    let s = Script([(-1, EINTR), (-1, EINTR), (7, 0)])
    #expect(try retryingSyscall("read", context: "fd 9") { s.call() } == 7)
    #expect(s.calls == 3)
  }

  @Test func anotherErrnoIsATypedErrorNamingCallAndTarget() {
    let s = Script([(-1, EINTR), (-1, EBADF)])
    #expect(throws: SystemError("read", errno: EBADF, context: "fd 9")) {
      try retryingSyscall("read", context: "fd 9") { s.call() }
    }
    #expect(s.calls == 2)
    let text = SystemError("open", errno: ENOENT, context: "/nope").description
    #expect(text.hasPrefix("open /nope: ") && text.hasSuffix("(errno \(ENOENT))"))
  }

  @Test func eagainIsWouldBlockNotAnErrorAndIsNotRetried() throws {
    for e in [EAGAIN, EWOULDBLOCK] {
      let s = Script([(-1, EINTR), (-1, e), (3, 0)])
      #expect(try nonBlockingSyscall("recv") { s.call() } == .wouldBlock)
      #expect(s.calls == 2)
    }
    let ok = Script([(5, 0)])
    #expect(try nonBlockingSyscall("recv") { ok.call() } == .done(5))
    let bad = Script([(-1, ECONNRESET)])
    #expect(throws: SystemError("recv", errno: ECONNRESET, context: "fd 4")) {
      try nonBlockingSyscall("recv", context: "fd 4") { bad.call() }
    }
  }

  @Test func blockingWrapperTreatsEagainAsAnError() {
    let s = Script([(-1, EAGAIN)])
    #expect(throws: SystemError("write", errno: EAGAIN)) { try retryingSyscall("write") { s.call() } }
  }

  /// A real non-blocking socket: empty is would-block, data is done(n),
  /// the peer's close is done(0), and sends report would-block when full.
  @Test func realSocketWouldBlockDataAndEOF() throws {
    var pair = try Syscalls.socketPair()
    try pair.first.setNonBlocking()
    try pair.second.setNonBlocking()
    var buf = [UInt8](repeating: 0, count: 64)
    let empty = try buf.withUnsafeMutableBytes { p in try pair.first.receive(into: p) }
    #expect(empty == .wouldBlock)
    let sent = try [UInt8]("hello".utf8).withUnsafeBytes { b in try pair.second.send(b) }
    #expect(sent == .done(5))
    let got = try buf.withUnsafeMutableBytes { p in try pair.first.receive(into: p) }
    #expect(got == .done(5))
    #expect(Array(buf[0..<5]) == Array("hello".utf8))
    // Fill the peer's buffer: a non-blocking send ends in would-block, bounded.
    let chunk = [UInt8](repeating: 1, count: 65536)
    var sawWouldBlock = false
    for _ in 0..<1000 {
      let r = try chunk.withUnsafeBytes { b in try pair.second.send(b) }
      if r == .wouldBlock { sawWouldBlock = true; break }
    }
    #expect(sawWouldBlock)
    pair.second.close()
    // Drain to EOF.
    var eof = false
    for _ in 0..<100_000 {
      let r = try buf.withUnsafeMutableBytes { p in try pair.first.receive(into: p) }
      if r == .done(0) { eof = true; break }
      #expect(r != .wouldBlock)
    }
    #expect(eof)
  }

  @Test func fileDescriptorClosesOnceAndOnDrop() throws {
    var fd = try Syscalls.open("/dev/null", O_RDONLY)
    let raw = fd.rawValue
    #expect(fcntl(raw, F_GETFD) >= 0)
    fd.close()
    let after = fd.rawValue
    #expect(after == -1)
    fd.close()  // idempotent
    #expect(fcntl(raw, F_GETFD) == -1 && errno == EBADF)
    var raw2: Int32 = -1
    do {
      let owned = try Syscalls.open("/dev/null", O_RDONLY)
      raw2 = owned.rawValue
      #expect(fcntl(raw2, F_GETFD) & FD_CLOEXEC != 0)  // close-on-exec by default
    }
    #expect(fcntl(raw2, F_GETFD) == -1 && errno == EBADF)
  }

  @Test func readWholeFileReadsToEOFAndNamesTheFileOnError() throws {
    let text = String(decoding: try Syscalls.readWholeFile("/proc/self/status"), as: UTF8.self)
    #expect(text.contains("Pid:\t\(getpid())\n"))
    #expect(text.hasSuffix("\n"))
    #expect(throws: SystemError("open", errno: ENOENT, context: "/proc/self/no-such-file")) {
      try Syscalls.readWholeFile("/proc/self/no-such-file")
    }
    #expect(Syscalls.readFile("/proc/self/no-such-file") == nil)
    #expect(try Syscalls.readWholeFile("/proc/self/status", limit: 10).count == 10)
  }

  @Test func epollReportsAReadyFdByNumber() throws {
    let ep = try Epoll()
    let pipe = try Syscalls.pipe()
    let readEnd = pipe.first.rawValue
    try ep.add(readEnd, Epoll.readable)
    var data = [UInt64](repeating: 0, count: 4)
    var events = [UInt32](repeating: 0, count: 4)
    #expect(try ep.wait(data: &data, events: &events, timeoutMs: 0) == 0)
    try [UInt8(1)].withUnsafeBytes { b in try pipe.second.writeAll(b) }
    #expect(try ep.wait(data: &data, events: &events, timeoutMs: 1000) == 1)
    #expect(Epoll.fd(data[0]) == readEnd)
    #expect(events[0] & Epoll.readable != 0)
    ep.remove(readEnd)
    #expect(try ep.wait(data: &data, events: &events, timeoutMs: 0) == 0)
  }
}
