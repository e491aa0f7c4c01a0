// IPC: the frame decoder over a byte stream, then each payload as a Message;
// a decoded message must survive its own encoding unchanged.
import ActorRuntime
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  var buffer = fuzzBytes(data, size)
  while let payload = try? FrameCodec.decode(&buffer) {
    guard let m = try? Message.decode(payload: payload) else { continue }
    var again = m.encoded()
    guard let p = try? FrameCodec.decode(&again), let back = try? Message.decode(payload: p), back == m else {
      fatalError("message does not survive its encoding: \(m)")
    }
  }
  return 0
}

/// `fuzz-frame --write-seeds DIR`: real frames from the real encoder, for the corpus.
func writeSeeds(_ dir: String) {
  let scenario = Scenario.nestedMultierrors(depth: 2, breadth: 2)
  let spec = SpawnSpec(actor: scenario.root.children.first ?? scenario.root, runDir: "/tmp/tractor-diag-runs/r1",
                       backend: "forkserver", bounds: Bounds(json: nil), actorExecutable: "/usr/bin/tractor-actor",
                       forkServer: "@tractor-fs-1")
  let boom = ErrorInfo(json: ["type": "ValueError", "message": "boom", "actor": "leaf_0_1", "pid": 4242])
  let messages: [(String, Message)] = [
    ("started", .started(pid: 4242, name: "leaf_0_1")), ("spawnSpec", .spawnSpec(spec)),
    ("result", .result(value: "ok")), ("cancel", .cancelRequest),
    ("error", .error(boom!)), ("cancelAck", .cancelAck(errors: [boom!])),
  ]
  var stream: [UInt8] = []
  for (name, m) in messages {
    writeSeed(dir + "/" + name, m.encoded())
    stream += m.encoded()
  }
  writeSeed(dir + "/stream", stream)
}

if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "--write-seeds" {
  writeSeeds(CommandLine.arguments[2])
} else {
  runFuzzer(fuzz)
}
