// Scenario files: MiniJSON's parser, then ScenarioParser's checks. A parsed
// JSON value must print and parse back to itself.
import ActorRuntime
import FuzzSupport
import MiniJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let bytes = fuzzBytes(data, size)
  guard let v = try? JSONParser.parse(bytes: bytes) else { return 0 }
  guard let back = try? JSONParser.parse(v.compact), back == v else {
    fatalError("JSON does not survive printing: \(v.compact)")
  }
  _ = try? ScenarioParser.parse(text: String(decoding: bytes, as: UTF8.self))
  return 0
}

runFuzzer(fuzz)
