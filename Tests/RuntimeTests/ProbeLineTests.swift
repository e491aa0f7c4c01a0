import Glibc
import MiniJSON
import Probes
import SystemCore
import Testing

/// One probe-line builder: the writer's bytes and `ProbeEvent.line` are the
/// same line, long fields cut alike (at a character boundary, so the line
/// stays valid UTF-8 and parses back).
@Suite(.timeLimit(.minutes(1)))
struct ProbeLineTests {
  @Test func writerAndEventLineAgreeOnLongFields() throws {
    let dir = "/tmp/tractor-diag-tests/probes-line-\(getpid())-\(Syscalls.monotonicNs() % 1_000_000)"
    try Syscalls.makeDirectories(dir + "/probes")
    let actor = String(repeating: "é", count: 150)  // 300 bytes: cut inside a character
    let detail = "x" + String(repeating: "✓\"", count: 1000)  // 4001 bytes
    let w = try ProbeWriter(directory: dir + "/probes", actor: actor)
    w.record("site", "EV", peer: 7, detail: detail)
    let raw = try #require(Syscalls.readFile("\(dir)/probes/\(getpid()).jsonl"))
    let written = String(decoding: raw, as: UTF8.self)
    let parsed = try #require(ProbeEvent(json: try JSONParser.parse(String(written.dropLast()))))
    let rebuilt = ProbeEvent(t: parsed.t, pid: parsed.pid, actor: actor, site: "site", event: "EV", peer: 7, detail: detail)
    #expect(rebuilt.line == written)
    #expect(parsed.actor == String(repeating: "é", count: 100))
    #expect(parsed.detail?.utf8.count ?? 0 <= 2000 && parsed.detail?.hasPrefix("x✓\"") == true)
    FileTree.remove(dir)
  }
}
