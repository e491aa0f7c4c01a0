import Glibc
import MiniJSON
import Testing
import TestSupport

/// `tractor-diag snapshot` against small real trees of python3 processes.
/// Each tree runs in its own process group; cleanup SIGKILLs the group and reaps.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct SnapshotCommandTests {
  // time.sleep across Python versions: nanosleep, clock_nanosleep, select, pselect6, poll.
  private static let sleepNRs: Set<Int> = [35, 230, 23, 270, 7]

  @Test func fullPipeIsACycleWithStacks() throws {
    let script = PythonTrees.fullPipe
    let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
    defer {
      tree.cleanup()
      #expect(ToolProcess.survivors().isEmpty)
    }
    let pids = try #require(tree.readReady())
    let (parent, child) = (pids[0], pids[1])
    #expect(SpawnedTree.waitForSyscall(parent, [61]))
    #expect(SpawnedTree.waitForSyscall(child, [1]))

    // With stacks: the tool must not ptrace the child blocked in write(2)
    // (a stop would cut the write short), and must take the parent's.
    let r = ToolProcess.run(["snapshot", "--tree", "--format", "json", "\(parent)"])
    #expect(r.status == 0, "\(r.stderr)")
    let v = try #require(r.json, "stdout was not JSON: \(r.stdout) \(r.stderr)")
    let procs = v["processes"]?.array ?? []
    #expect(procs.compactMap { $0["pid"]?.int } == [Int64(parent), Int64(child)])
    let edges = v["edges"]?.array ?? []
    func hasEdge(_ from: Int32, _ kind: String, _ to: Int32) -> Bool {
      edges.contains { $0["from"]?.int == Int64(from) && $0["to"]?.int == Int64(to) && $0["kind"]?.string == kind }
    }
    #expect(hasEdge(child, "waits-room-from", parent))
    #expect(hasEdge(parent, "waits-exit-of", child))
    #expect(edges.allSatisfy { !($0["evidence"]?.string ?? "").isEmpty })
    let cycles = (v["cycles"]?.array ?? []).map { Set(($0.array ?? []).compactMap { $0.int }) }
    #expect(cycles == [Set([Int64(parent), Int64(child)])])
    #expect(v["terminals"]?.array?.isEmpty == true)
    #expect(v["elapsedMs"]?.double != nil)
    #expect(v["stacksMs"]?.double != nil)
    #expect(v["stacks"]?.bool == true)

    // The child's thread: write(2) decoded, its fd resolved to the parent's read end.
    let c = try #require(procs.first { $0["pid"]?.int == Int64(child) })
    #expect(c["ppid"]?.int == Int64(parent))
    #expect(c["comm"]?.string?.hasPrefix("python") == true)
    let thread = try #require(c["threads"]?.array?.first)
    let sc = try #require(thread["syscall"])
    #expect(sc["name"]?.string == "write")
    #expect(sc["number"]?.int == 1)
    let fdNum = try #require(sc["args"]?["fd"]?.int)
    #expect(sc["args"]?["count"]?.int == Int64(200 * 1024))
    #expect(thread["wchan"]?.string != nil)
    let fd = try #require(c["fds"]?.array?.first { $0["fd"]?.int == fdNum })
    #expect(fd["kind"]?.string == "pipe")
    #expect(fd["end"]?.string == "write")
    #expect(fd["blocking"]?.bool == true)
    #expect(fd["peers"]?.array?.contains { $0["pid"]?.int == Int64(parent) } == true)
    // Stacks: none for the writer, with a note saying why; the parent (in
    // wait4) has frames when ptrace is allowed, otherwise a note.
    #expect(thread["stack"]?.array?.isEmpty != false)
    let childNote = (thread["stackNote"]?.string ?? "") + (c["stackNote"]?.string ?? "")
    #expect(childNote.contains("blocked in a write"), "\(c)")
    let pp = try #require(procs.first { $0["pid"]?.int == Int64(parent) })
    let pthread = try #require(pp["threads"]?.array?.first)
    let stack = pthread["stack"]?.array
    let noted = pthread["stackNote"]?.string != nil || pp["stackNote"]?.string != nil
    #expect((stack?.isEmpty == false) || noted, "no stack and no note: \(pthread)")
    if let frames = stack, !frames.isEmpty {
      #expect(frames.allSatisfy { ($0["pc"]?.string ?? "").hasPrefix("0x") && $0["text"]?.string != nil })
    }
    // Detached: neither process is left traced or stopped.
    for p in [parent, child] {
      let st = SpawnedTree.state(p)
      #expect(st != "t" && st != "T", "pid \(p) left in state \(String(describing: st))")
      #expect(SpawnedTree.tracerPid(p) ?? 0 == 0)
    }
  }

  @Test func waitChainEndsAtTheSleepingGrandchild() throws {
    let script = """
      import os, time
      c = os.fork()
      if c == 0:
          g = os.fork()
          if g == 0:
              time.sleep(120); os._exit(0)
          print("ready", os.getppid(), os.getpid(), g, flush=True)
          os.waitpid(g, 0); os._exit(0)
      os.waitpid(c, 0)
      """
    let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
    defer {
      tree.cleanup()
      #expect(ToolProcess.survivors().isEmpty)
    }
    let pids = try #require(tree.readReady())
    let (parent, child, grandchild) = (pids[0], pids[1], pids[2])
    #expect(SpawnedTree.waitForSyscall(parent, [61]))
    #expect(SpawnedTree.waitForSyscall(child, [61]))
    #expect(SpawnedTree.waitForSyscall(grandchild, Self.sleepNRs))
    let chain = [Int64(parent), Int64(child), Int64(grandchild)]

    // JSON, no stacks.
    let r = ToolProcess.run(["snapshot", "--tree", "--format", "json", "--no-stacks", "\(parent)"])
    #expect(r.status == 0, "\(r.stderr)")
    let v = try #require(r.json, "\(r.stdout) \(r.stderr)")
    #expect((v["processes"]?.array ?? []).compactMap { $0["pid"]?.int } == chain)
    #expect((v["chains"]?.array ?? []).map { ($0.array ?? []).compactMap { $0.int } } == [chain])
    #expect((v["terminals"]?.array ?? []).compactMap { $0.int } == [Int64(grandchild)])
    #expect(v["cycles"]?.array?.isEmpty == true)
    #expect(v["stacks"]?.bool == false)
    #expect((v["notes"]?.array ?? []).contains { ($0.string ?? "").contains("--no-stacks") })
    let edges = v["edges"]?.array ?? []
    #expect(edges.count == 2)
    #expect(edges.allSatisfy { $0["kind"]?.string == "waits-exit-of" })
    let g = try #require(v["processes"]?.array?.last)
    let gt = try #require(g["threads"]?.array?.first)
    #expect(Self.sleepNRs.contains(Int(gt["syscall"]?["number"]?.int ?? -1)))
    #expect(gt["stack"]?.isNull == true)
    #expect(v["unexplained"]?[String(grandchild)]?.string != nil)
    let p = try #require(v["processes"]?.array?.first)
    #expect(p["threads"]?.array?.first?["syscall"]?["args"]?["pid"]?.int == Int64(child))

    // Text, with stacks named by llvm-symbolizer: the answer comes first.
    let t = ToolProcess.run(["snapshot", "--tree", "--symbolize", "\(parent)"])
    #expect(t.status == 0, "\(t.stderr)")
    let text = t.stdout
    // Named from the cmdline (ProcessNaming): `python3 -c SCRIPT`, kept by the fork children.
    let chainLine = "chain: \(parent) python3 -c -> \(child) python3 -c -> \(grandchild) python3 -c"
    let chainAt = try #require(text.firstRange(of: chainLine), "\(text)")
    let ends = try #require(text.firstRange(of: "ends at \(grandchild) python3 -c"), "\(text)")
    let procsAt = try #require(text.firstRange(of: "\nprocesses:\n"), "\(text)")
    let stacksAt = try #require(text.firstRange(of: "\nnative stacks:\n"), "\(text)")
    #expect(chainAt.lowerBound < ends.lowerBound)
    #expect(ends.lowerBound < procsAt.lowerBound)
    #expect(procsAt.lowerBound < stacksAt.lowerBound)
    #expect(text.contains("wait4(pid=\(child)"))
    #expect(text.contains("native stacks of pid \(grandchild)"))

    // Dot.
    let d = ToolProcess.run(["snapshot", "--tree", "--format", "dot", "\(parent)"])
    #expect(d.status == 0, "\(d.stderr)")
    #expect(d.stdout.contains("digraph"))
    #expect(d.stdout.contains("p\(parent) -> p\(child)"))
    #expect(d.stdout.contains("p\(child) -> p\(grandchild)"))

    // Without --tree only the pid itself: its edge leaves the set.
    let one = ToolProcess.run(["snapshot", "--format", "json", "--no-stacks", "\(child)"])
    let o = try #require(one.json, "\(one.stdout) \(one.stderr)")
    #expect((o["processes"]?.array ?? []).compactMap { $0["pid"]?.int } == [Int64(child)])
    #expect(o["edges"]?.array?.isEmpty == true)
  }

  @Test func processesExitingDuringTheSnapshotDoNotBreakIt() throws {
    // A parent that keeps forking children that exit at once: descendants vanish mid-read.
    let script = """
      import os
      print("ready", os.getpid(), flush=True)
      while True:
          c = os.fork()
          if c == 0:
              os._exit(0)
          os.waitpid(c, 0)
      """
    let tree = try #require(SpawnedTree(python: script), "python3 is required (make deps installs it)")
    defer {
      tree.cleanup()
      #expect(ToolProcess.survivors().isEmpty)
    }
    let pid = try #require(tree.readReady()?.first)
    for format in ["json", "text"] {
      let r = ToolProcess.run(["snapshot", "--tree", "--format", format, "\(pid)"])
      #expect(r.status == 0, "\(r.stderr)")
      if format == "json" {
        let v = try #require(r.json, "\(r.stdout) \(r.stderr)")
        #expect((v["processes"]?.array ?? []).contains { $0["pid"]?.int == Int64(pid) })
      } else {
        #expect(r.stdout.contains("pid \(pid) "))
      }
    }

    // A pid that has exited (and been reaped) before the run.
    let gone = try #require(SpawnedTree(python: "print('ready', flush=True)"))
    #expect(gone.readLine() == "ready")
    let goneAt = gone.pid
    #expect(gone.reap())
    gone.cleanup()
    let missing = ToolProcess.run(["snapshot", "\(goneAt)"])
    #expect(missing.status == 65)
    #expect(missing.stderr == "tractor-diag: no such process: \(goneAt)\n")
    #expect(missing.stdout.isEmpty)
    // Some exist: snapshot those, note the rest.
    let mixed = ToolProcess.run(["snapshot", "--format", "json", "--no-stacks", "\(goneAt)", "\(pid)"])
    #expect(mixed.status == 0, "\(mixed.stderr)")
    let m = try #require(mixed.json, "\(mixed.stdout) \(mixed.stderr)")
    #expect((m["processes"]?.array ?? []).compactMap { $0["pid"]?.int } == [Int64(pid)])
    #expect((m["notes"]?.array ?? []).contains { ($0.string ?? "").contains("no such process: \(goneAt)") })
  }

  @Test(arguments: ["abc", "0", "-5", "12x", "99999999999"])
  func badPidArgumentIsAUsageError(arg: String) {
    let r = ToolProcess.run(["snapshot", arg])
    #expect(r.status == 64)
    #expect(r.stdout.isEmpty)
    #expect(r.stderr.hasPrefix("tractor-diag: "))
    #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(r.stderr)")
    #expect(ToolProcess.survivors().isEmpty)
  }

  @Test func noPidIsAUsageError() {
    let r = ToolProcess.run(["snapshot", "--tree"])
    #expect(r.status == 64)
    #expect(r.stderr.filter { $0 == "\n" }.count == 1, "\(r.stderr)")
  }
}

/// A python3 script started with posix_spawn in its own process group (POSIX_SPAWN_SETPGROUP),
/// stdout on a pipe. cleanup() SIGKILLs the group and every pid it learned, then reaps them.
