// Probe logs: one probes/*.jsonl file's bytes through the reader's parser.
import FuzzSupport
import Probes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let r = ProbeLog.parse(lines: fuzzBytes(data, size))
  if !r.events.isEmpty { _ = ProbeLog(events: r.events, damagedLines: r.damaged).byPid }
  return 0
}

runFuzzer(fuzz)
