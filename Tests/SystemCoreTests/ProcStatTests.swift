import Glibc
import SystemCore
import Testing

/// The one /proc/PID/stat parser: comm is free text in parentheses.
@Suite(.timeLimit(.minutes(1))) struct ProcStatTests {
  /// A stat line with `comm` and otherwise fixed fields: state S, ppid 1,
  /// pgrp 77, minflt 5, utime 11, stime 22, num_threads 3, starttime 999, rss 640.
  static func line(comm: String) -> String {
    var fields = (4...52).map { _ in "0" }
    fields[4 - 4] = "1"  // ppid (field 4)
    fields[5 - 4] = "77"  // pgrp
    fields[10 - 4] = "5"  // minflt
    fields[14 - 4] = "11"  // utime
    fields[15 - 4] = "22"  // stime
    fields[20 - 4] = "3"  // num_threads
    fields[22 - 4] = "999"  // starttime
    fields[24 - 4] = "640"  // rss (pages)
    return "4242 (\(comm)) S " + fields.joined(separator: " ") + "\n"
  }

  @Test(arguments: ["sleep", "a) b", "(a) b)", ") ) (", "x y z", ""])
  func commWithSpacesAndParenthesesParses(comm: String) throws {
    let st = try #require(ProcStat(Array(ProcStatTests.line(comm: comm).utf8)))
    #expect(st.comm == comm)
    #expect(st.state == "S")
    #expect(st.ppid == 1)
    #expect(st.pgrp == 77)
    #expect(st.cpuTicks == 33)
    #expect(st.startTime == 999)
    #expect(st.minorFaults == 5 && st.threadCount == 3 && st.rssPages == 640)
  }

  @Test(arguments: ["", "4242 sleep S 1 2 3", "4242 (sleep) S 1 2", "4242 (sleep"])
  func notAStatLineIsNil(text: String) {
    #expect(ProcStat(Array(text.utf8)) == nil)
  }

  @Test func readsThisProcessAndItsMainThread() throws {
    let me = try #require(ProcStat.read(pid: getpid()))
    #expect(me.ppid == getppid())
    #expect(me.pgrp == getpgrp())
    // This thread is running: it is reading its own stat.
    let thread = try #require(ProcStat.read(pid: getpid(), tid: Syscalls.threadID))
    #expect(thread.state == "R")
    #expect(thread.ppid == me.ppid)
    #expect(ProcStat.read(pid: Int32.max) == nil)
  }

  /// An exited, unreaped child is a zombie ("Z") until waited for.
  @Test func anExitedChildIsAZombieUntilReaped() throws {
    let pid = try Syscalls.spawn("/bin/true", arguments: ["/bin/true"])
    let pidfd = try Syscalls.pidfdOpen(pid)
    let ready = Syscalls.pollReadable(pidfd.rawValue, timeoutMs: 10_000)
    #expect(ready)
    #expect(ProcessList.state(pid) == "Z")
    #expect(ProcStat.read(pid: pid)?.ppid == getpid())
    #expect(try Syscalls.reap(pidfd: pidfd.rawValue) == .exited(0))
    #expect(ProcessList.state(pid) == nil)
  }
}
