// /proc/PID/stat: the one parser of that file (SystemCore ProcStat).
import FuzzSupport
import SystemCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  _ = ProcStat(fuzzBytes(data, size))
  return 0
}

runFuzzer(fuzz)
