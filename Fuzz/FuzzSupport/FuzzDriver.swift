import CFuzz
import Glibc

/// Runs libFuzzer with this process's arguments and `callback` as
/// LLVMFuzzerTestOneInput; never returns (libFuzzer exits).
public func runFuzzer(_ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
  var argc = CommandLine.argc
  var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
  let rc = LLVMFuzzerRunDriver(&argc, &argv, callback)
  exit(rc)
}

/// The fuzzer's input as an array (libFuzzer passes NULL for size 0).
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
  guard let data, size > 0 else { return [] }
  return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Writes one corpus file (seed generation; no Foundation here).
public func writeSeed(_ path: String, _ bytes: [UInt8]) {
  guard let f = fopen(path, "wb") else { fatalError("cannot write \(path)") }
  _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
  fclose(f)
}
