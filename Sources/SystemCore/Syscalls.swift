import CSystem
import Glibc

/// Two fds made together (socketpair, pipe); fields are consumed separately.
@frozen public struct FDPair: ~Copyable {
  public var first: FileDescriptor
  public var second: FileDescriptor
}

/// Thin wrappers, one per syscall, each naming the call it makes.
public enum Syscalls {
  /// socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC)
  public static func socketPair() throws(SystemError) -> FDPair {
    var fds: [Int32] = [-1, -1]
    _ = try retryingSyscall("socketpair") {
      socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
    }
    return FDPair(first: FileDescriptor(adopting: fds[0]), second: FileDescriptor(adopting: fds[1]))
  }

  /// pipe2(O_CLOEXEC): (read end, write end)
  public static func pipe() throws(SystemError) -> FDPair {
    var fds: [Int32] = [-1, -1]
    _ = try retryingSyscall("pipe2") { cs_pipe_cloexec(&fds) }
    return FDPair(first: FileDescriptor(adopting: fds[0]), second: FileDescriptor(adopting: fds[1]))
  }

  /// open(2) with O_CLOEXEC added.
  public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> FileDescriptor {
    let fd = try retryingSyscall("open", context: path) { Glibc.open(path, flags | O_CLOEXEC, mode) }
    return FileDescriptor(adopting: fd)
  }

  /// pidfd_open(2)
  public static func pidfdOpen(_ pid: Int32) throws(SystemError) -> FileDescriptor {
    let fd = try retryingSyscall("pidfd_open", context: "pid \(pid)") { cs_pidfd_open(pid, 0) }
    return FileDescriptor(adopting: fd)
  }

  /// pidfd_send_signal(2); ESRCH (already gone) is not an error here.
  public static func pidfdSignal(_ pidfd: Int32, _ sig: Int32) {
    _ = cs_pidfd_send_signal(pidfd, sig)
  }

  /// kill(2), ignoring ESRCH.
  public static func kill(_ pid: Int32, _ sig: Int32) { _ = Glibc.kill(pid, sig) }

  /// kill(pid, 0): is a process (or zombie) with this pid there?
  public static func exists(_ pid: Int32) -> Bool { Glibc.kill(pid, 0) == 0 || Glibc.errno == EPERM }

  /// mkdir(2), EEXIST tolerated; parents created.
  public static func makeDirectories(_ path: String) throws(SystemError) {
    var cur = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
      cur += "/" + part
      if Glibc.mkdir(cur, 0o755) != 0 && Glibc.errno != EEXIST {
        throw SystemError("mkdir", errno: Glibc.errno, context: cur)
      }
    }
  }

  /// ioctl(FS_IOC_SETFLAGS, FS_TOPDIR_FL) on a directory: on ext4, the
  /// directories made in it are spread over the block groups (as at the
  /// filesystem's root) instead of going beside it; their files follow
  /// them. Best effort: false where the filesystem has no such flag.
  @discardableResult
  public static func markTopDirectory(_ path: String) -> Bool { cs_set_top_directory(path) == 0 }

  /// getpriority(PRIO_PROCESS, 0): this process's nice value.
  public static func niceValue() -> Int32 {
    // -1 is a valid nice value: only errno tells a failure apart.
    Glibc.errno = 0
    let n = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    return (n == -1 && Glibc.errno != 0) ? 0 : n
  }

  /// setpriority(PRIO_PROCESS, 0, nice). Lowering nice needs CAP_SYS_NICE
  /// or RLIMIT_NICE; raising it never does.
  public static func setNice(_ nice: Int32) throws(SystemError) {
    guard setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) == 0 else {
      throw SystemError("setpriority", errno: Glibc.errno, context: "nice \(nice)")
    }
  }

  /// getpid(2)
  public static var pid: Int32 { getpid() }

  /// readlink("/proc/self/exe")
  public static func executablePath() -> String {
    var buf = [UInt8](repeating: 0, count: 4096)
    let n = buf.withUnsafeMutableBytes { readlink("/proc/self/exe", $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
    guard n > 0 else { return "" }
    return String(decoding: buf[0..<n], as: UTF8.self)
  }

  /// PATH lookup, as a shell does it: a name with a '/' is taken as is.
  public static func findExecutable(_ name: String) -> String? {
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
    for dir in path.split(separator: ":") where !dir.isEmpty {
      let p = "\(dir)/\(name)"
      if access(p, X_OK) == 0 { return p }
    }
    return nil
  }

  /// Reads a whole file: open(2), read(2) to EOF (a /proc file is generated
  /// per read call, so one read is not enough), close(2). At most `limit`
  /// bytes. The one file reader: /proc readers and tools all use it.
  public static func readWholeFile(_ path: String, limit: Int = 1 << 24) throws(SystemError) -> [UInt8] {
    let fd = try open(path, O_RDONLY)
    var out: [UInt8] = []
    // Most /proc files are under 4 KiB: start there (a snapshot reads
    // thousands of them), double up to 64 KiB for big ones like maps.
    var chunk = 4096
    while out.count < limit {
      let start = out.count
      let want = min(chunk, limit - start)
      out.append(contentsOf: repeatElement(0, count: want))
      let r: Result<Int, SystemError> = out.withUnsafeMutableBytes { p in
        do throws(SystemError) { return .success(try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: p[start...]))) } catch {
          return .failure(error)
        }
      }
      let n = try r.get()
      out.removeLast(want - n)
      if n == 0 { break }
      chunk = min(chunk * 2, 65536)
    }
    return out
  }

  /// `readWholeFile`, nil when the file cannot be opened or read at all (a
  /// process that vanished mid-snapshot must degrade, never throw).
  public static func readFile(_ path: String, limit: Int = 1 << 24) -> [UInt8]? {
    try? readWholeFile(path, limit: limit)
  }

  /// readlink(2), e.g. /proc/PID/fd/N -> "socket:[123]"; nil on error.
  public static func readLink(_ path: String) -> String? {
    var buf = [UInt8](repeating: 0, count: 4097)
    guard
      let n = try? buf.withUnsafeMutableBytes({ (p) throws(SystemError) -> Int in
        try retryingSyscall("readlink", context: path) { readlink(path, p.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) }
      })
    else { return nil }
    return String(decoding: buf[0..<n], as: UTF8.self)
  }

  /// pread(2) of exactly `count` bytes at `offset` of the file at `path`
  /// (e.g. /proc/PID/mem, which needs ptrace access); nil if short or failed.
  public static func readExactly(_ path: String, offset: UInt64, count: Int) -> [UInt8]? {
    guard count > 0, offset < UInt64(Int64.max), let fd = try? open(path, O_RDONLY) else { return nil }
    var buf = [UInt8](repeating: 0, count: count)
    var got = 0
    while got < count {
      let n = buf.withUnsafeMutableBytes { p in
        (try? retryingSyscall("pread", context: path) { pread(fd.rawValue, p.baseAddress! + got, count - got, off_t(Int64(offset) + Int64(got))) }) ?? -1
      }
      if n <= 0 { break }
      got += n
    }
    return got == count ? buf : nil
  }

  /// opendir(3)/readdir(3) (getdents64): names of the entries of a directory
  /// (no . and ..).
  public static func directoryEntries(_ path: String) throws(SystemError) -> [String] {
    var dir: OpaquePointer? = nil
    repeat { dir = opendir(path) } while dir == nil && Glibc.errno == EINTR
    guard let d = dir else { throw SystemError("opendir", errno: Glibc.errno, context: path) }
    defer { closedir(d) }
    var names: [String] = []
    while let e = readdir(d) {
      let name = withUnsafePointer(to: e.pointee.d_name) {
        $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
      }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// `directoryEntries`, [] if unreadable.
  public static func listDirectory(_ path: String) -> [String] { (try? directoryEntries(path)) ?? [] }

  /// isatty(3) (an ioctl TCGETS): whether `fd` is a terminal.
  public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

  /// write(2) of all of `text` to an fd we do not own (1, 2); a failure
  /// (closed pipe) ends the write silently.
  public static func write(_ text: String, to fd: Int32) {
    var t = text
    t.withUTF8 { b in
      var off = 0
      while off < b.count {
        guard let n = try? retryingSyscall("write", { Glibc.write(fd, b.baseAddress! + off, b.count - off) }), n > 0 else { return }
        off += n
      }
    }
  }

  /// Writes a whole file (truncating).
  public static func writeFile(_ path: String, _ text: String) throws(SystemError) {
    let fd = try open(path, O_WRONLY | O_CREAT | O_TRUNC)
    let bytes = Array(text.utf8)
    let failure: SystemError? = bytes.withUnsafeBytes { b in
      do throws(SystemError) { try fd.writeAll(b); return nil } catch { return error }
    }
    if let failure { throw failure }
  }
}
