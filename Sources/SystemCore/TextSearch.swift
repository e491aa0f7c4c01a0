import Glibc

extension StringProtocol {
  /// Whether `needle` occurs in this string, compared as UTF-8 bytes
  /// (memchr(3) for the first byte, then memcmp(3)).
  ///
  /// Why not `contains(_:)`: for a String argument that resolves to
  /// _StringProcessing's generic collection search, whose first use
  /// instantiates generic metadata through the runtime's conformance scans
  /// (~0.5 ms of a `snapshot`'s start, perf), and which compares Characters.
  /// Every caller looks for ASCII markers in /proc text, paths and notes,
  /// where byte equality is the meaning wanted.
  public func includes(_ needle: String) -> Bool {
    var needle = needle
    return needle.withUTF8 { n in
      if let found = utf8.withContiguousStorageIfAvailable({ Self.search(UnsafeRawBufferPointer($0), for: n) }) {
        return found
      }
      var copy = String(self)
      return copy.withUTF8 { Self.search(UnsafeRawBufferPointer($0), for: n) }
    }
  }

  private static func search(_ h: UnsafeRawBufferPointer, for n: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let first = n.first else { return true }
    guard let base = h.baseAddress, h.count >= n.count else { return false }
    var at = 0
    let last = h.count - n.count
    while at <= last {
      guard let hit = memchr(base + at, Int32(first), last - at + 1) else { return false }
      at = base.distance(to: UnsafeRawPointer(hit))
      if memcmp(base + at, n.baseAddress!, n.count) == 0 { return true }
      at += 1
    }
    return false
  }
}
