import Glibc
import MiniJSON
import SystemCore

/// `watch --control`: a Unix stream socket on which the watched command's
/// own processes ask watch for a verdict on a subtree of theirs (the pytest
/// plugin, at a test's deadline). watch is the ancestor of every process of
/// the command, so it can read /proc/PID/syscall, memory and stacks where
/// Yama's ptrace_scope 1 lets only an ancestor (or CAP_SYS_PTRACE) do so: a
/// helper that pytest started could not read its siblings.
///
/// The socket is `control.sock` in a private directory (mkdtemp, 0700; the
/// socket 0600); its path reaches the command as TRACTOR_DIAG_CONTROL. A
/// client must have our uid and be the command or below it (SO_PEERCRED and
/// the ppid chain), and may only ask about itself or its descendants. One
/// JSON request line per connection, one JSON reply line (WatchControlRequest).
/// Requests are served one at a time on a thread of their own, so that the
/// watch loop stays as it is; every read and write has a deadline.
public final class WatchControl: @unchecked Sendable {
  public static let environmentVariable = "TRACTOR_DIAG_CONTROL"

  public struct Config: Sendable {
    /// Native stacks in the verdicts (watch --no-stacks turns them off).
    public var stacks: Bool
    /// Where each request's files go; nil: a new tractor-diag-runs/watch-control-PID-N,
    /// made at the first request.
    public var runDir: String?
    /// The verdict as text for people (Reports.VerdictText, which sits above us).
    public var render: @Sendable (Verdict) -> String

    public init(stacks: Bool, runDir: String? = nil, render: @escaping @Sendable (Verdict) -> String) {
      self.stacks = stacks
      self.runDir = runDir
      self.render = render
    }
  }

  public let socketPath: String
  let directory: String
  let config: Config
  let listener: FileDescriptor
  let wake: FDPair
  let t0: UInt64
  /// Touched by the server thread only.
  var runDir: String?

  /// Makes the directory and the listening socket, and exports the path to
  /// children started from now on. Call it before any thread starts (setenv).
  public static func open(_ config: Config, t0: UInt64) throws(SystemError) -> WatchControl {
    let dir = try StreamSockets.makePrivateDirectory(prefix: "tractor-diag-control-")
    let path = dir + "/control.sock"
    do {
      let l = try StreamSockets.listen(path: path)
      let w = try Syscalls.pipe()
      Environment.set(environmentVariable, path)
      return WatchControl(path: path, dir: dir, config: config, listener: l, wake: w, t0: t0)
    } catch {
      FileTree.remove(dir)
      throw error
    }
  }

  init(path: String, dir: String, config: Config, listener: consuming FileDescriptor, wake: consuming FDPair, t0: UInt64) {
    socketPath = path
    directory = dir
    self.config = config
    self.listener = listener
    self.wake = wake
    self.t0 = t0
    runDir = config.runDir
  }

  /// Serves requests from `commandPid` and its descendants until `stop()`.
  /// A thread that cannot start leaves the socket unanswered: clients time
  /// out and say so (returns the error).
  @discardableResult
  public func serve(commandPid: Int32) -> SystemError? {
    do {
      try Threads.startDetached { [self] in loop(commandPid: commandPid) }
      return nil
    } catch { return error }
  }

  /// Ends the server (a request being answered finishes on its own thread)
  /// and removes the socket and its directory. watch calls it when the
  /// command has exited or outlived the deadline: only then does the main
  /// thread take its own snapshot, and by then the command's processes
  /// that could ask are gone or no longer below it.
  public func stop() {
    Syscalls.write("x", to: wake.second.rawValue)
    FileTree.remove(directory)
  }

  func loop(commandPid: Int32) {
    while true {
      let r = ProcessControl.poll([(wake.first.rawValue, Int16(POLLIN))], timeoutMs: 0)
      if r[0] != 0 { return }
      guard let conn = StreamSockets.accept(listener, wake: wake.first.rawValue, timeoutMs: 1000) else { continue }
      answer(conn, commandPid: commandPid)
    }
  }

  /// One connection: who it is, one request line (2 s to arrive), the reply.
  func answer(_ conn: borrowing FileDescriptor, commandPid: Int32) {
    let reply: JSONValue
    let limitNs: UInt64 = 2_000_000_000
    switch Self.admit(conn, commandPid: commandPid) {
    case .failure(let r): reply = WatchControlRequest.refusal(r.why)
    case .success(let peer):
      let line = (try? StreamSockets.readLine(conn, limit: 1 << 16, deadlineNs: Syscalls.monotonicNs() + limitNs)) ?? nil
      if let line {
        reply = handle(line, peer: peer)
      } else {
        reply = WatchControlRequest.refusal("no request line within 2 s")
      }
    }
    StreamSockets.sendAll(conn, Array((reply.compact + "\n").utf8), deadlineNs: Syscalls.monotonicNs() + 5 * limitNs)
  }

  struct Refused: Error { var why: String }

  /// Our uid, and the command or one of its descendants.
  static func admit(_ conn: borrowing FileDescriptor, commandPid: Int32) -> Result<PeerCredentials, Refused> {
    guard let peer = try? PeerCredentials.of(conn.rawValue) else { return .failure(Refused(why: "no peer credentials")) }
    guard peer.uid == PeerCredentials.ourUID else {
      return .failure(Refused(why: "uid \(peer.uid) is not watch's uid \(PeerCredentials.ourUID)"))
    }
    guard ProcessList.isDescendant(peer.pid, of: commandPid) else {
      return .failure(Refused(why: "pid \(peer.pid) is not the watched command \(commandPid) or below it"))
    }
    return .success(peer)
  }

  func handle(_ line: [UInt8], peer: PeerCredentials) -> JSONValue {
    let req: WatchControlRequest
    switch WatchControlRequest.parse(line) {
    case .failure(let e): return WatchControlRequest.refusal(e.why)
    case .success(let r): req = r
    }
    guard ProcessList.isDescendant(req.pid, of: peer.pid) else {
      return WatchControlRequest.refusal("pid \(req.pid) is not the caller \(peer.pid) or below it")
    }
    return req.answer(stacks: config.stacks, runDir: requestDirectory(), t0: t0, render: config.render)
  }

  /// The run directory for request files, made at the first request.
  func requestDirectory() -> String? {
    if runDir == nil { runDir = RunDirectoryName.fresh(prefix: "watch-control-") }
    guard var d = runDir, (try? Syscalls.makeDirectories(d)) != nil else { return nil }
    // Absolute: the client's cwd need not be ours.
    if !d.hasPrefix("/"), let cwd = Syscalls.currentDirectory() { d = cwd + "/" + d }
    runDir = d
    return d
  }
}
