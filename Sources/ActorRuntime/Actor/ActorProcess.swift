import Probes
import SystemCore

/// Process-level entry points of an actor: set up, run the loop, and end in
/// exactly one place, `exitProcess`: the EXIT probe, then `_exit(rc)`.
public enum ActorProcess {
  nonisolated(unsafe) static var probes: ProbeWriter? = nil

  /// Entry for a freshly exec'ed actor (`tractor-actor actor ...`): the
  /// parent channel is fd 3.
  public static func main(runDir: String, nameHint: String, bootHook: BootHook = .none) -> Never {
    Syscalls.ignoreSIGPIPE()
    let loop = EventLoop()
    EventLoop.current = loop
    startActor(channelFD: actorChannelFD, runDir: runDir, nameHint: nameHint, loop: loop, bootHook: bootHook)
    probes?.record("loop", ProbeKind.enter)
    loop.run()
    // Only reached if the loop stops without the actor calling exitProcess.
    probes?.record("loop", ProbeKind.returned)
    exitProcess(70)
  }

  /// Starts the actor's main task on `loop` (which the caller runs). Used by
  /// the exec entry and, in a fork child, on the parent's emptied loop.
  /// The boot hook is performed here and nowhere else.
  public static func startActor(channelFD: Int32, runDir: String, nameHint: String, loop: EventLoop, bootHook: BootHook = .none) {
    switch bootHook {
    case .none: break
    case .exitBeforeConnectBack:
      // Gone before the first instruction of actor code, without a probe.
      Syscalls.exitImmediately(3)
    }
    Syscalls.ignoreSIGPIPE()
    let writer: ProbeWriter
    do {
      writer = try ProbeWriter(directory: runDir + "/probes", actor: nameHint)
    } catch {
      writer = ProbeWriter(discardingFor: nameHint)
    }
    probes = writer
    writer.record("child_target", ProbeKind.enter, peer: Syscalls.parentPid)
    let main = ActorMain(loop: loop, probes: writer, parentFD: channelFD)
    loop.spawn {
      let rc = await main.run(nameHint: nameHint)
      writer.record("child_target", ProbeKind.returned, detail: "rc=\(rc)")
      exitProcess(rc)
    }
  }

  /// The one way an actor process ends.
  public static func exitProcess(_ rc: Int32) -> Never {
    probes?.record("process", ProbeKind.exit, detail: "rc=\(rc)")
    Syscalls.exitImmediately(rc)
  }
}
