import CSystem
import Glibc
import MiniJSON
import Probes
import Supervision
import SystemCore

extension BenchRunner {
  // MARK: 3. Spawn baselines

  func spawnBaselines() {
    let n = quick ? 60 : 200
    // posix_spawn /bin/true + reap.
    let truePath = access("/bin/true", X_OK) == 0 ? "/bin/true" : (Syscalls.findExecutable("true") ?? "/bin/true")
    var spawnSamples: [Double] = []
    for i in 0..<(n + 5) {
      let t0 = nowNs()
      guard var child = spawn([truePath], newGroup: false) else { break }
      guard case .exited = child.wait(untilNs: t0 + 10_000_000_000) else {
        notes.append("/bin/true did not exit within 10 s")
        killTree(child.pid)
        break
      }
      let dt = Double(nowNs() - t0) / 1e6
      if i >= 5 { spawnSamples.append(dt) }  // 5 warm-ups
    }
    var r = BenchRow(key: "baseline.posixSpawnTrue", name: "baseline posix_spawn /bin/true + reap", unit: "ms", samples: spawnSamples)
    r.note = "\(spawnSamples.count) spawns"
    r.ratio("anchor 0.600 ms", against: "anchor C posix_spawn /bin/true", baseline: 0.600, measured: false)
    posixSpawnBaselineMs = r.median
    rows.append(r)

    // fork + _exit + reap, only from a single-threaded process. The one
    // fork of the tool, and direct calls on purpose: this row is the bare
    // cost the C anchor measures (fork, _exit, waitpid), nothing around it.
    threadsAtStart = cs_thread_count()
    if threadsAtStart == 1 {
      var forkSamples: [Double] = []
      for i in 0..<(n + 5) {
        let t0 = nowNs()
        let pid = cs_fork()
        if pid == 0 { _exit(0) }
        if pid < 0 {
          notes.append("fork failed: \(String(cString: strerror(errno)))")
          break
        }
        var st: Int32 = 0
        while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
        let dt = Double(nowNs() - t0) / 1e6
        if i >= 5 { forkSamples.append(dt) }
      }
      var f = BenchRow(key: "baseline.forkExitReap", name: "baseline fork + _exit + reap", unit: "ms", samples: forkSamples)
      f.note = "\(forkSamples.count) forks of this single-threaded process"
      f.ratio("anchor 0.103 ms (C)", against: "anchor C fork+_exit+waitpid", baseline: 0.103, measured: false)
      forkBaselineMs = f.median
      rows.append(f)
    } else {
      rows.append(
        BenchRow(
          key: "baseline.forkExitReap", name: "baseline fork + _exit + reap", unit: "ms",
          skipped: "not measured: this process has \(threadsAtStart) threads; posix_spawn /bin/true is the baseline"))
      forkBaselineMs = posixSpawnBaselineMs
    }
  }

  // MARK: 4. Probe cost

  func probeCost() {
    let batches = quick ? 3 : 10
    let perBatch = 10_000
    let dir = baseDir + "/probe"
    var probeSamples: [Double] = []
    var rawSamples: [Double] = []
    let detail = "spawner_0_depth_1_errorer_1"
    for b in 0..<(batches + 1) {  // batch 0 is a warm-up
      let bdir = "\(dir)/batch-\(b)"
      do { try Syscalls.makeDirectories(bdir) } catch {
        notes.append("probe cost: \(error)")
        return
      }
      // ProbeWriter.record: format one event line + one O_APPEND write(2).
      do {
        let w = try ProbeWriter(directory: bdir, actor: "bench")
        let t0 = nowNs()
        for i in 0..<perBatch { w.record("nursery", "SPAWNED", peer: Int32(truncatingIfNeeded: 1000 + i), detail: detail) }
        let dt = nowNs() - t0
        if b > 0 { probeSamples.append(Double(dt) / Double(perBatch) / 1000) }
      } catch {
        notes.append("probe cost: \(error)")
        return
      }
      // Baseline: write(2) of an already formatted line of the same length.
      var line = ProbeEvent(
        t: nowNs(), pid: getpid(), actor: "bench", site: "nursery", event: "SPAWNED", peer: 1000, detail: detail
      ).line
      if let file = try? Syscalls.open("\(bdir)/raw.jsonl", O_WRONLY | O_CREAT | O_APPEND) {
        // write(2) called directly on purpose: this row is the bare syscall.
        let fd = file.rawValue
        let t0 = nowNs()
        line.withUTF8 { buf in
          for _ in 0..<perBatch { _ = write(fd, buf.baseAddress!, buf.count) }
        }
        let dt = nowNs() - t0
        if b > 0 { rawSamples.append(Double(dt) / Double(perBatch) / 1000) }
      }
      ScratchDirectory.remove(bdir)
      checkInterrupt()
    }
    ScratchDirectory.remove(dir)
    var raw = BenchRow(key: "baseline.rawWrite", name: "baseline write(2) of a formatted line", unit: "µs", samples: rawSamples)
    raw.note = "\(batches) batches of \(perBatch), O_APPEND file in /tmp"
    var p = BenchRow(key: "probe.record", name: "probe ProbeWriter.record per event", unit: "µs", samples: probeSamples, target: (.lt, 2))
    p.note = "median of \(batches) batches of \(perBatch)"
    p.ratio("\(fmtNum(raw.median ?? 0)) µs raw write(2)", against: "raw write(2) of the same line", baseline: raw.median)
    rows.append(p)
    rows.append(raw)
  }

}
