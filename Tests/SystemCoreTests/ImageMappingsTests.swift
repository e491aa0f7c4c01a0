import SystemCore
import Testing

/// ImageMappings: our executable's read-only mappings get an anonymous page
/// (what makes fork copy their page table entries) and keep their
/// protection: nothing of the text is left writable.
@Suite(.timeLimit(.minutes(1))) struct ImageMappingsTests {
  /// This process's mappings of its own executable: (range, perms, anonymous kB), from /proc/self/smaps.
  static func ownMappings() throws -> [(String, String, Int)] {
    let exe = Syscalls.executablePath()
    let bytes = try #require(Syscalls.readFile("/proc/self/smaps"))
    var out: [(String, String, Int)] = []
    var current: (String, String)? = nil
    for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
      let f = line.split(separator: " ", omittingEmptySubsequences: true)
      if f.count >= 5, f[0].contains("-"), !f[0].hasSuffix(":") {
        current = f.count >= 6 && String(f[5]) == exe ? (String(f[0]), String(f[1])) : nil
      } else if let c = current, f.first == "Anonymous:", f.count >= 2 {
        out.append((c.0, c.1, Int(f[1]) ?? -1))
      }
    }
    return out
  }

  @Test func readOnlyMappingsGetAnAnonymousPageAndKeepTheirProtection() throws {
    let before = try Self.ownMappings()
    #expect(before.contains { $0.1 == "r-xp" }, "no text mapping of \(Syscalls.executablePath()) in smaps")
    #expect(ImageMappings.shareWithForkChildren() >= 1)
    let after = try Self.ownMappings()
    // Same mappings, same permissions (none split, none left writable).
    #expect(after.map { $0.0 + " " + $0.1 } == before.map { $0.0 + " " + $0.1 })
    for m in after where m.1.hasPrefix("r-") && m.1.hasSuffix("p") {
      #expect(m.2 > 0, "\(m.0) \(m.1): no anonymous page")
    }
  }
}
