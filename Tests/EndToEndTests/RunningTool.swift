import CSystem
import Glibc
import Supervision
import SystemCore
import Testing

/// A `tractor-diag` started in the background, to be signalled while its
/// tree runs (SIGKILL, SIGINT), with its own leak detector: a /proc walk of
/// its own (ppid links of /proc/*/stat) and pidfds opened before the kill,
/// independent of the product's tree walk.
final class RunningTool {
  let pid: pid_t
  private let outFD: Int32
  private let errFD: Int32
  private var reaped = false

  /// Starts the tool with `args`; `env` entries are added to ours.
  init?(_ args: [String], env: [String] = []) {
    _ = ToolProcess.setUp
    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    _ = cs_pipe_cloexec(&outPipe)
    _ = cs_pipe_cloexec(&errPipe)
    var environment: [String] = []
    var p = environ
    while let e = p.pointee {
      environment.append(String(cString: e))
      p += 1
    }
    environment += env
    let argv = [ToolProcess.tool] + ToolProcess.withTestRunDir(args)
    var cargs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
    var cenv: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
    defer { for c in cargs + cenv { free(c) } }
    var child: pid_t = 0
    let rc = cs_spawn(&child, ToolProcess.tool, &cargs, &cenv, -1, 3, outPipe[1], errPipe[1], CS_SPAWN_NEW_PGROUP)
    close(outPipe[1])
    close(errPipe[1])
    guard rc == 0 else {
      close(outPipe[0])
      close(errPipe[0])
      return nil
    }
    pid = child
    outFD = outPipe[0]
    errFD = errPipe[0]
  }

  deinit {
    if !reaped {
      kill(pid, SIGKILL)
      var st: Int32 = 0
      while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
    }
    close(outFD)
    close(errFD)
  }

  /// Waits until some probe file under `runDir`/probes holds a line with
  /// `marker`, polling the files every 10 ms up to `timeoutMs`.
  func waitForProbe(runDir: String, _ marker: String, timeoutMs: Int = 30_000) -> Bool {
    let until = Syscalls.monotonicNs() + UInt64(timeoutMs) * 1_000_000
    while Syscalls.monotonicNs() < until {
      for f in Syscalls.listDirectory(runDir + "/probes") {
        if let b = Syscalls.readFile(runDir + "/probes/" + f), String(decoding: b, as: UTF8.self).contains(marker) { return true }
      }
      if ProcStat.read(pid: pid).map({ $0.state == "Z" }) ?? true { return false }  // the tool ended first
      ProcessControl.sleep(ms: 10)
    }
    return false
  }

  /// Every process below the tool now, from /proc/*/stat ppid links (not
  /// the product's ProcessList), with a pidfd opened to each.
  func treeWithPidfds() -> WatchedTree {
    var parent: [Int32: Int32] = [:]
    for name in Syscalls.listDirectory("/proc") {
      guard let p = Int32(name), let b = Syscalls.readFile("/proc/\(name)/stat") else { continue }
      // "pid (comm) S ppid ...": the fields after the last ')'.
      guard let close = b.lastIndex(of: UInt8(ascii: ")")) else { continue }
      let rest = b[(close + 2)...].split(separator: 32)
      if rest.count > 1, let pp = Int32(String(decoding: rest[1], as: UTF8.self)) { parent[p] = pp }
    }
    let out = WatchedTree()
    for (p, _) in parent {
      var q = p
      var below = false
      for _ in 0..<64 {
        guard let pp = parent[q] else { break }
        if pp == pid {
          below = true
          break
        }
        q = pp
      }
      if below, let fd = try? Syscalls.pidfdOpen(p) {
        out.pids.append(p)
        out.pidfds.append(fd.take())
      }
    }
    return out
  }

  /// Sends `sig` to the tool only (not its group).
  func signal(_ sig: Int32) { kill(pid, sig) }

  /// Reads the tool's output to EOF and reaps it, bounded by `timeoutSeconds`
  /// (past it the tool is killed). Returns the exit code (128 + signal when
  /// killed), stdout and stderr.
  func finish(timeoutSeconds: Int = 60) -> ToolRun {
    let until = Syscalls.monotonicNs() + UInt64(timeoutSeconds) * 1_000_000_000
    var fds = [pollfd(fd: outFD, events: Int16(POLLIN), revents: 0), pollfd(fd: errFD, events: Int16(POLLIN), revents: 0)]
    var out: [UInt8] = []
    var err: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    var open = 2
    while open > 0 && Syscalls.monotonicNs() < until {
      guard poll(&fds, 2, 100) > 0 else { continue }
      for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
        let r = read(fds[i].fd, &buf, buf.count)
        if r > 0 {
          if i == 0 { out.append(contentsOf: buf[0..<r]) } else { err.append(contentsOf: buf[0..<r]) }
        } else if r == 0 || errno != EINTR {
          fds[i].fd = -1
          open -= 1
        }
      }
    }
    if open > 0 { kill(pid, SIGKILL) }
    var st: Int32 = 0
    while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
    reaped = true
    return ToolRun(status: WaitStatus(raw: st).code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
  }

  /// Polls the pidfds until every process has exited or `boundMs` passed;
  /// returns the pids still running then.
  static func stillRunning(_ tree: WatchedTree, boundMs: Int) -> [Int32] {
    let until = Syscalls.monotonicNs() + UInt64(boundMs) * 1_000_000
    var pending = Array(zip(tree.pids, tree.pidfds))
    while !pending.isEmpty {
      let now = Syscalls.monotonicNs()
      if now >= until { break }
      let rev = ProcessControl.poll(pending.map { ($0.1, Int16(POLLIN)) }, timeoutMs: Int32((until - now) / 1_000_000 + 1))
      pending = zip(pending, rev).filter { $0.1 == 0 }.map { $0.0 }
    }
    return pending.map { $0.0 }.sorted()
  }
}

/// Pids seen below the tool, each with a pidfd opened while it was alive
/// (so pid reuse cannot fool the check); the pidfds close with this value.
final class WatchedTree {
  var pids: [Int32] = []
  var pidfds: [Int32] = []
  var count: Int { pids.count }
  deinit { for fd in pidfds { close(fd) } }
}
