import Glibc
import Diagnosis
import Probes
import Reports
import SystemCore
import Testing

/// `report --timeline` from stored runs: time order, aligned columns, the
/// cascade's events, folding that keeps it short.
@Suite(.timeLimit(.minutes(1)))
struct TimelineTests {
  static func timeline(_ run: String) throws -> [String] {
    let dir = StoredRun.runs + "/" + run
    let files = try RunFiles.load(dir)
    let log = try ProbeLog.read(runDir: dir)
    let v = VerdictBuilder.build(files, log: log)
    let text = RunTimeline.render(
      log, verdict: v, supervisor: files.supervisor?["supervisorPid"]?.int.map { Int32($0) },
      startNs: files.supervisor?["startNs"]?.int.map { UInt64($0) })
    return text.split(separator: "\n").map(String.init)
  }

  /// Lines after the title and header: times never go back, and the pid
  /// column starts where the header's does.
  static func checkColumns(_ lines: [String]) throws {
    let header = lines[1]
    let h = Array(header.utf16)
    let pidAt = try #require((0..<(h.count - 2)).first { h[$0] == 112 && h[$0 + 1] == 105 && h[$0 + 2] == 100 })  // "pid"
    var last = -1.0
    for l in lines.dropFirst(2) {
      let ms = try #require(Double(String(l.prefix(10).drop(while: { $0 == " " }))), "no time: \(l)")
      #expect(ms >= last, "time goes back: \(l)")
      last = ms
      let u = Array(l.utf16)
      #expect(u.count > pidAt && u[pidAt - 1] == 32 && (48...57).contains(u[pidAt]), "pid column off: \(l)")
    }
  }

  @Test func hangRunTellsTheCascade() throws {
    let lines = try Self.timeline("fault-ignore-cancel")
    try Self.checkColumns(lines)
    let body = lines.joined(separator: "\n")
    #expect(body.contains("spawner_0_depth_0_errorer_0    12179  never reached EXIT: last probe cancel ENTER"))
    #expect(body.contains("cancel → spawner_0_depth_0_errorer_0: NO_ACK after"))
    #expect(body.contains("SIGTERM → spawner_0_depth_0_errorer_0"))
    #expect(body.contains("got MultiError from spawner_1_depth_0"))
    #expect(body.contains("stall: no probe for 400 ms"))
    // The stuck actor's lines stay its own (never folded into "+N").
    #expect(!lines.contains { $0.contains("12179+") })
  }

  @Test func foldingKeepsADepthOneTreeShort() throws {
    // 15 actors: each spawned, up, raises or relays, cancelled, waits, exits.
    let lines = try Self.timeline("fault-eof-spin")
    try Self.checkColumns(lines)
    #expect(lines.count < 70, "\(lines.count) lines")
    #expect(lines.contains { $0.contains(" processes") }, "nothing folded")
  }

  @Test func cleanRunEndsWithEveryExit() throws {
    let lines = try Self.timeline("clean-spawn")
    try Self.checkColumns(lines)
    #expect(!lines.contains { $0.contains("never reached EXIT") })
    #expect(lines.contains { $0.contains("EXIT rc=0") })
  }

  @Test func watchRunDirTimeline() throws {
    let w = try WatchRunDir.load(StoredRun.runs + "/watch-rundir")
    let lines = WatchTimeline.render(w).split(separator: "\n").map(String.init)
    try Self.checkColumns(lines)
    let body = lines.joined(separator: "\n")
    #expect(lines.contains { $0.contains(" short ") && $0.contains(" 5003 ") && $0.hasSuffix(" gone") })
    #expect(lines.contains { $0.contains(" helper ") && $0.contains("appeared under worker 5001") })
    #expect(body.contains("R - → S read → waits-data-from 5002 (fd 5)"))
    #expect(body.contains("snapshot (at): snapshot-1500ms.json"))
    #expect(body.contains("end: hang, exit 124"))
    #expect(lines.first?.contains("1 damaged sample lines skipped") == true)
  }

  /// A watch without --sample: the deadline snapshot (evidence.json) is the
  /// one observation, and the timeline says "seen at the snapshot", never
  /// "appeared" (when they appeared is not known).
  @Test func watchRunDirWithoutSamplesUsesTheDeadlineSnapshot() throws {
    let dir = "/tmp/tractor-diag-timeline-\(getpid())"
    defer { FileTree.remove(dir) }
    try Syscalls.makeDirectories(dir)
    for f in ["watch.json", "verdict.json", "evidence.json"] {
      let b = try #require(Syscalls.readFile(StoredRun.runs + "/watch-rundir/" + f))
      try Syscalls.writeFile(dir + "/" + f, String(decoding: b, as: UTF8.self))
    }
    let w = try WatchRunDir.load(dir)
    #expect(w.samplesFromEvidence && w.samples.count == 1)
    #expect(w.samples.first?.processes.map(\.pid) == [5000, 5001, 5002])
    let lines = WatchTimeline.render(w).split(separator: "\n").map(String.init)
    try Self.checkColumns(lines)
    #expect(!lines.contains { $0.contains("appeared") })
    #expect(lines.contains { $0.contains(" 5001 ") && $0.contains("seen at the snapshot") && $0.contains("S read → waits-data-from 5002") })
  }
}
