import Glibc
import MiniJSON
import SystemCore
import TestSupport
import Testing

/// Time in watch: the run directory, snapshots at a time and at a stall,
/// light samples, on a real tree that finishes by itself; and compare
/// --watch on a real tractor program under two of its own backends.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct WatchTimeTests {
  static func json(_ path: String) -> JSONValue? {
    Syscalls.readFile(path).flatMap { try? JSONParser.parse(bytes: $0) }
  }

  /// The snapshot files of a run dir, with their reason.
  static func snapshots(_ dir: String) -> [(file: String, reason: String, json: JSONValue)] {
    Syscalls.listDirectory(dir).filter { $0.hasPrefix("snapshot-") }.sorted().compactMap { f in
      guard let j = json(dir + "/" + f), let r = j["reason"]?.string else { return nil }
      return (f, r, j)
    }
  }

  /// sh runs `python3 (opens a FIFO and waits) | cat`: cat is blocked
  /// reading a pipe only the python writes, the python in open(2) of the
  /// FIFO, sh in wait4. Nothing uses CPU once the python is up: one stall.
  /// The test releases the FIFO once the stall snapshot exists (evidence,
  /// not a sleep); then the tree ends by itself with sh's `exit 7`.
  @Test(.enabled(if: SpawnedTree.python != nil, "python3 not installed"))
  func snapshotsAndSamplesWhileTheTreeRuns() throws {
    let dir = ToolProcess.runDir("watchtime")
    let fifo = dir + "/release.fifo"
    try #require(mkfifo(fifo, 0o600) == 0)
    let py = SpawnedTree.python!
    let script = "\(py) -c 'import sys; print(open(sys.argv[1]).read())' \(fifo) | cat > /dev/null; exit 7"
    let tool = try #require(
      RunningTool(["watch", "--run-dir", dir, "--at", "0.5", "--sample", "50", "--on-stall", "0.5", "--timeout", "40", "--", "/bin/sh", "-c", script]))
    // Wait (bounded) for the stall snapshot, then let the tree finish.
    let until = Syscalls.monotonicNs() + 30_000_000_000
    while !Self.snapshots(dir).contains(where: { $0.reason == "stall" }) && Syscalls.monotonicNs() < until {
      if ProcStat.read(pid: tool.pid).map({ $0.state == "Z" }) ?? true { break }
      ProcessControl.sleep(ms: 10)
    }
    let w = open(fifo, O_WRONLY | O_NONBLOCK)
    if w >= 0 {
      _ = write(w, "go", 2)
      close(w)
    }
    let r = tool.finish(timeoutSeconds: 45)
    #expect(ToolProcess.survivors().isEmpty)
    // The command's exit status, unchanged.
    #expect(r.status == 7, "\(r.stderr)")
    #expect(r.stderr.contains("run dir \(dir)"))

    let watch = try #require(Self.json(dir + "/watch.json"))
    #expect(watch["outcome"]?.string == "clean")
    #expect(watch["commandStatus"]?.int == 7)
    #expect(watch["exitCode"]?.int == 7)
    let start = try #require(watch["startNs"]?.int)
    let commandPid = try #require(watch["commandPid"]?.int)
    let verdict = try #require(Self.json(dir + "/verdict.json"))
    #expect(verdict["exitCode"]?.int == 7)
    #expect(verdict["runDir"]?.string == dir)
    #expect(Syscalls.readFile(dir + "/evidence.json") == nil, "no deadline snapshot for a command that finished")

    // Samples: increasing t, the tree's pids, cat blocked in read on python's pipe.
    let lines = (Syscalls.readFile(dir + "/samples.jsonl") ?? []).split(separator: UInt8(ascii: "\n"))
    let samples = lines.compactMap { try? JSONParser.parse(bytes: Array($0)) }
    #expect(samples.count == lines.count && samples.count >= 3, "\(lines.count) lines")
    let ts = samples.compactMap { $0["t"]?.int }
    #expect(ts.count == samples.count && zip(ts, ts.dropFirst()).allSatisfy { $0 < $1 } && (ts.first ?? 0) >= start)
    let procs = samples.flatMap { $0["processes"]?.array ?? [] }
    #expect(procs.contains { $0["pid"]?.int == commandPid && $0["syscall"]?.string == "wait4" && $0["state"]?.string == "S" })
    let pythonPid = try #require(procs.first { ($0["name"]?.string ?? "").hasPrefix("python") }?["pid"]?.int)
    let catBlocked = procs.contains { p in
      p["name"]?.string == "cat" && p["state"]?.string == "S" && p["syscall"]?.string == "read"
        && (p["waits"]?.array ?? []).contains { $0["kind"]?.string == "waits-data-from" && $0["pid"]?.int == pythonPid && $0["fd"]?.int == 0 }
    }
    #expect(catBlocked, "no sample shows cat reading python's pipe")

    // The --at snapshot holds the blocked cat and its edge; one stall, one snapshot.
    let snaps = Self.snapshots(dir)
    #expect(snaps.map(\.reason) == ["at", "stall"] || snaps.map(\.reason) == ["stall", "at"], "\(snaps.map(\.file))")
    #expect(snaps.filter { $0.reason == "stall" }.count == 1)
    let at = try #require(snaps.first { $0.reason == "at" }?.json["snapshot"])
    let cat = try #require((at["processes"]?.array ?? []).first { $0["comm"]?.string == "cat" })
    #expect(cat["blocked"]?.bool == true)
    #expect(
      (at["edges"]?.array ?? []).contains {
        $0["from"] == cat["pid"] && $0["to"]?.int == pythonPid && $0["kind"]?.string == "waits-data-from"
      }, "\(at["edges"]?.compact ?? "")")
    #expect(watch["snapshots"]?.array?.count == 2)
    #expect(r.stderr.split(separator: "\n").filter { $0.contains("snapshot at") }.count == 2, "\(r.stderr)")
  }

  /// tractor 0.1.0a5 (the project's venv) under its trio and spawn
  /// backends, one trial each: both finish clean, and the comparison names
  /// the processes each made (tractor's actors under trio, multiprocessing's
  /// spawn children and resource tracker under spawn).
  @Test func compareWatchAcrossTractorBackends() throws {
    let py = RealTreeGraphTests.python
    try #require(access(py, X_OK) == 0, "no \(py): run `make venv`")
    let dir = ToolProcess.runDir("compare-watch")
    let cmd = "\(py) -W ignore \(ToolProcess.fixtures)/python/tractor_nested.py --start-method {backend} --depth 0 --breadth 1"
    let r = ToolProcess.run(
      ["compare", "--watch", cmd, "--backends", "trio,spawn", "--trials", "1", "--timeout", "40", "--run-dir", dir],
      timeoutSeconds: 55)
    #expect(ToolProcess.survivors().isEmpty)
    #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
    let rows = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    for b in ["trio", "spawn"] {
      let row = try #require(rows.first { $0.first == b && $0.count > 5 }, "\(r.stdout)")
      #expect(Array(row[1...5]) == ["1", "1", "0", "0", "0"], "trials clean hang leak failed: \(row)")
      #expect(Self.json("\(dir)/\(b)-1/watch.json")?["outcome"]?.string == "clean")
    }
    #expect(r.stdout.contains("spawn vs trio: first divergence") || r.stdout.contains("spawn vs trio: no divergence"))
    #expect(r.stdout.contains("+ spawner_0"), "tractor's actor named under trio: \(r.stdout)")
    #expect(r.stdout.contains("spawn child"), "\(r.stdout)")
    // Bad combinations are usage errors.
    #expect(ToolProcess.run(["compare", "--watch", "prog {backend}"]).status == 64)
    #expect(ToolProcess.run(["compare", "--watch", "prog", "--backends", "a,b"]).status == 64)
    #expect(ToolProcess.run(["compare", "--watch", "prog {backend} | tee x", "--backends", "a,b"]).status == 64)
    #expect(ToolProcess.run(["compare", "--watch", "prog {backend}", "--backends", "a,b", "--depth", "3"]).status == 64)
  }

  /// Ctrl-C during a trial: its tree killed and reaped, the partial table
  /// with the cut trial on its own line, exit 130, no later trial.
  @Test func ctrlCDuringCompareWatchStopsAndExits130() throws {
    let dir = ToolProcess.runDir("compare-watch-int")
    let tool = try #require(
      RunningTool(["compare", "--watch", "/bin/sh -c 'exec sleep 30' {backend}", "--backends", "a,b", "--trials", "2", "--timeout", "40", "--run-dir", dir]))
    // The first trial has sampled its tree: it is running.
    let until = Syscalls.monotonicNs() + 20_000_000_000
    while Syscalls.readFile(dir + "/a-1/samples.jsonl") == nil && Syscalls.monotonicNs() < until {
      if ProcStat.read(pid: tool.pid).map({ $0.state == "Z" }) ?? true { break }
      ProcessControl.sleep(ms: 10)
    }
    tool.signal(SIGINT)
    let r = tool.finish(timeoutSeconds: 30)
    #expect(ToolProcess.survivors().isEmpty)
    #expect(r.status == 130, "\(r.stdout) \(r.stderr)")
    #expect(r.stdout.contains("interrupted: trial 1 was cut short by signal 2"), "\(r.stdout)")
    #expect(Syscalls.readFile(dir + "/a-2/watch.json") == nil && Syscalls.readFile(dir + "/b-1/watch.json") == nil)
  }
}
