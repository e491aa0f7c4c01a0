/// Length-prefixed frames: a 4-byte big-endian payload length, then the
/// payload (one JSON message). A frame of length 0 or above `maxPayload` is
/// malformed: the channel is closed rather than trusting the length.
public struct FrameCodec: Sendable {
  public static let maxPayload = 1 << 20

  public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case badLength(Int)
    public var description: String {
      switch self {
      case .badLength(let n): return "frame length \(n) outside 1...\(FrameCodec.maxPayload)"
      }
    }
  }

  public static func encode(_ payload: [UInt8]) -> [UInt8] {
    let n = UInt32(payload.count)
    return [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + payload
  }

  /// Takes one whole frame off the front of `buffer`, if one is there.
  public static func decode(_ buffer: inout [UInt8]) throws(DecodeError) -> [UInt8]? {
    guard buffer.count >= 4 else { return nil }
    let n = Int(buffer[0]) << 24 | Int(buffer[1]) << 16 | Int(buffer[2]) << 8 | Int(buffer[3])
    guard n > 0 && n <= maxPayload else { throw .badLength(n) }
    guard buffer.count >= 4 + n else { return nil }
    let payload = Array(buffer[4..<(4 + n)])
    buffer.removeFirst(4 + n)
    return payload
  }
}
