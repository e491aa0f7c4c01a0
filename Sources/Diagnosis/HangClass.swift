/// The named causes of a hang, each with what it means and how to fix it.
/// The raw value is the name used in text and JSON (`hangClass`,
/// `terminal[].class`); README's class table and docs/hang-classes.md list
/// the same names (DiagnosisTests checks that they agree).
public enum HangClass: String, CaseIterable, Sendable, CustomStringConvertible {
  case uncancellableTask = "uncancellable-task"
  case unboundedTeardownWait = "unbounded-teardown-wait"
  case parentChannelNotCancelled = "parent-channel-not-cancelled"
  case uncancellableChildWait = "uncancellable-child-wait"
  case leakedFDHoldsPeerOpen = "leaked-fd-holds-peer-open"
  case blockedOnFullPipe = "blocked-on-full-pipe"
  case cancelNotDelivered = "cancel-not-delivered"
  case exitNotReached = "exit-not-reached"
  case diedDuringBoot = "died-during-boot"
  case forkFromMultithreadedParent = "fork-from-multithreaded-parent"
  case busyLoop = "busy-loop"
  case forkserverStall = "forkserver-stall"
  case waitCycle = "wait-cycle"
  case unexplained = "unexplained"
  case mutualChannelWait = "mutual-channel-wait"
  case inProcessWait = "in-process-wait"
  case sleeping = "sleeping"
  case working = "working"

  /// The name in text and JSON.
  public var name: String { rawValue }
  public var description: String { rawValue }

  public var meaning: String {
    switch self {
    case .uncancellableTask: return "a task kept waiting after its cancel request"
    case .unboundedTeardownWait: return "actor main's finally waits without bound for peers to disconnect"
    case .parentChannelNotCancelled: return "teardown waits on the shielded parent-channel loop nobody cancelled"
    case .uncancellableChildWait: return "a wait on a child's exit that cancel cannot interrupt"
    case .leakedFDHoldsPeerOpen: return "another process holds a copy of a channel end, so EOF never comes"
    case .blockedOnFullPipe: return "blocked writing to a pipe nobody drains"
    case .cancelNotDelivered: return "cancel requests never reached the actor's cancel path"
    case .exitNotReached: return "teardown completed but the process never exited"
    case .diedDuringBoot: return "the child died before connecting back; its parent still waits for it"
    case .forkFromMultithreadedParent: return "forked from a process with several threads; the child never ran"
    case .busyLoop: return "spinning on the CPU instead of waiting"
    case .forkserverStall: return "a server (a fork server) is stuck serving one client; the others queue behind it"
    case .waitCycle: return "the wait chain closes on itself"
    case .unexplained: return "no known pattern fits; see the evidence"
    case .mutualChannelWait: return "two processes each wait to read from the other over one channel, and neither speaks first"
    case .inProcessWait: return "waits on something only this process can set: nothing outside it can wake it"
    case .sleeping: return "a timed sleep: it will wake by itself"
    case .working: return "still making progress at the deadline, not stuck"
    }
  }

  public var hint: String {
    switch self {
    case .uncancellableTask: return "make every wait cancellable (resume it on cancel), or bound it"
    case .unboundedTeardownWait: return "bound this wait (tractor bounds it at 3 s) or close the peer channel first"
    case .parentChannelNotCancelled: return "cancel the parent-channel loop (by its own handle) in the cancel path"
    case .uncancellableChildWait: return "wait on the child's pidfd through the loop, so cancel can interrupt the wait"
    case .leakedFDHoldsPeerOpen: return "close inherited fds after fork (close_range from 3 up, keep only your own channel)"
    case .blockedOnFullPipe: return "drain or redirect child stdio (a file, /dev/null, or a reader that never stops)"
    case .cancelNotDelivered:
      return "make sure cancel requests reach the actor's cancel method, and keep the hard-kill ladder on as a backstop"
    case .exitNotReached: return "make the exit the last statement of every path (EXIT probe, then _exit(rc))"
    case .diedDuringBoot: return "race the connect-back against the child's pidfd (exit) and bound it"
    case .forkFromMultithreadedParent:
      return "fork only from a single-threaded process (a fork server started before any thread), or exec after fork"
    case .busyLoop: return "a loop treats EOF or an error as 'try again': exit the loop on EOF"
    case .forkserverStall:
      return "serve every client concurrently (non-blocking, one readiness callback per connection) and bound each request"
    case .waitCycle: return "break the cycle: one side must stop waiting (bound it) or close its end"
    case .unexplained: return "read the evidence lines and the stack: this process is the one to look at"
    case .mutualChannelWait:
      return "decide which side speaks first (a greeting, a request), or bound one side's read and close the channel"
    case .inProcessWait:
      return "a task waits on something only this process can set (an event, a shielded scope): read its task stack (snapshot shows Python tasks) or probes"
    case .sleeping: return "wait for it, or shorten the sleep (make it cancellable)"
    case .working: return "raise --timeout, or look at what it does"
    }
  }

  /// A specific cause ranks before a bare cycle, which ranks before a
  /// process still at work (no bug of its own), which ranks before nothing.
  var rank: Int {
    switch self {
    case .unexplained: return 3
    case .working: return 2
    case .waitCycle: return 1
    default: return 0
    }
  }
}
