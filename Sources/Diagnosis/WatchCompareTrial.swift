import Glibc
import SystemCore

extension WatchComparison {
  /// How often a trial samples its tree: often enough to order the
  /// processes' starts and ends (tractor's actors live for tens of ms).
  public static let sampleMs = 20

  /// One trial: `argv` under watch with its own run directory, stdin from
  /// /dev/null, stdout and stderr into RUN-DIR/output.txt (the table owns
  /// the terminal), its tree sampled every `sampleMs`. Returns the trial,
  /// or why it did not start.
  public static func trial(
    argv: [String], runDir: String, timeoutMs: Int, stacks: Bool, snapshotter: WatchSnapshotter?,
    keeperExecutable: String? = nil
  ) -> Result<WatchTrial, WatchTrialError> {
    let dir: WatchRunDirectory
    do { dir = try WatchRunDirectory(path: runDir) } catch { return .failure(WatchTrialError(description: "\(error)")) }
    var output = FileDescriptor.none
    var null = FileDescriptor.none
    do {
      output.replace(with: try Syscalls.open(runDir + "/output.txt", O_WRONLY | O_CREAT | O_TRUNC))
      null.replace(with: try Syscalls.open("/dev/null", O_RDONLY))
    } catch { return .failure(WatchTrialError(description: "\(error)")) }
    var o = WatchRun.Options(timeoutMs: timeoutMs, stacks: stacks, stdoutToStderr: false, keeperExecutable: keeperExecutable)
    o.runDir = dir
    o.schedule = WatchSchedule(sampleMs: sampleMs)
    o.snapshotter = snapshotter
    o.commandFDs = [.parent(null.rawValue), .parent(output.rawValue), .parent(output.rawValue)]
    let out = WatchRun.run(command: argv, options: o)
    // The fds live until the command has its copies (a noncopyable value
    // may end at its last use).
    _ = output.isOpen && null.isOpen
    if let e = out.startError { return .failure(WatchTrialError(description: e)) }
    return .success(WatchTrial(out, samples: WatchRunDirectory.readSamples(runDir)))
  }
}

public struct WatchTrialError: Error, CustomStringConvertible, Sendable {
  public var description: String
}
