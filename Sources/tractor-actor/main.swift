// The actor process and the fork server. Deliberately no argument parser and
// no Foundation here: every actor pays this binary's load time at spawn.
import ActorRuntime
import Supervision
import SystemCore

nonisolated func value(_ args: [String], _ flag: String) -> String? {
  guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
  return args[i + 1]
}

nonisolated func usage() -> Never {
  let msg =
    "usage: tractor-actor actor --run-dir DIR --name NAME [--boot-hook HOOK] | forkserver --socket NAME --run-dir DIR --ready-fd N [--serial] | keeper --tool PID\n"
  Syscalls.write(msg, to: 2)
  Syscalls.exit(64)
}

nonisolated func entry() -> Never {
  let args = CommandLine.arguments
  guard args.count >= 2 else { usage() }
  switch args[1] {
  case "actor":
    guard let dir = value(args, "--run-dir") else { usage() }
    var hook = BootHook.none
    if let h = value(args, "--boot-hook") {
      guard let parsed = BootHook(rawValue: h) else { usage() }
      hook = parsed
    }
    ActorProcess.main(runDir: dir, nameHint: value(args, "--name") ?? "actor", bootHook: hook)
  case "forkserver":
    guard let sock = value(args, "--socket"), let dir = value(args, "--run-dir"),
      let ready = value(args, "--ready-fd").flatMap({ Int32($0) })
    else { usage() }
    ForkServer.main(socketName: sock, runDir: dir, readyFD: ready, serial: args.contains("--serial"))
  case "keeper":
    guard let tool = value(args, "--tool").flatMap({ Int32($0) }) else { usage() }
    TreeKeeper.main(toolPid: tool)
  default:
    usage()
  }
}

entry()
