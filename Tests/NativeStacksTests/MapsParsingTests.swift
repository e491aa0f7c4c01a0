import Glibc
import Testing

@testable import NativeStacks

/// /proc/PID/maps read as bytes: named mappings only, paths with spaces kept.
@Suite(.timeLimit(.minutes(1)))
struct MapsParsingTests {
  @Test func namedMappingsWithTheirOffsets() {
    let text = """
      55d0c0a00000-55d0c0a2c000 r--p 00000000 08:01 1234                       /usr/bin/python3.11
      55d0c0a2c000-55d0c0d1f000 r-xp 0002c000 08:01 1234                       /usr/bin/python3.11
      7f00aa000000-7f00aa021000 rw-p 00000000 00:00 0 
      7f00ab000000-7f00ab001000 r-xp 00001000 00:1f 99                         /tmp/my lib.so (deleted)
      7ffc1a2b3000-7ffc1a2d4000 rw-p 00000000 00:00 0                          [stack]
      garbage line
      """
    let m = ProcFiles.parseMaps(Array(text.utf8))
    #expect(m.map(\.path) == ["/usr/bin/python3.11", "/usr/bin/python3.11", "/tmp/my lib.so (deleted)", "[stack]"])
    #expect(m[1].start == 0x55d0_c0a2_c000 && m[1].end == 0x55d0_c0d1_f000 && m[1].offset == 0x2c000)
    #expect(m[1].perms == "r-xp")
    #expect(m[2].offset == 0x1000)
  }

  /// The parser agrees with the kernel's own file for this process.
  @Test func ownMapsParse() {
    let m = ProcFiles.maps(getpid())
    #expect(m.contains { $0.path.hasSuffix("libc.so.6") } || m.contains { $0.path == "[stack]" })
    #expect(m.allSatisfy { $0.start < $0.end })
  }
}
