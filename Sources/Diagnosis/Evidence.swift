import Glibc
import KernelEvidence
import MiniJSON
import NativeStacks
import PythonStacks
import SystemCore

/// What the kernel showed about one process while the tree was stuck.
public struct ProcessEvidence: Sendable {
  public var pid: Int32
  public var ppid: Int32
  public var comm: String
  public var state: String
  public var threads: Int
  public var syscall: String?  // "epoll_wait(fd 4)" style, main thread
  public var syscallName: String?
  public var wchan: String?
  public var cpuTicksDelta: Int?  // CPU ticks used between two samples
  public var sampleMs: Int?
  public var fds: [FDEvidence]
  /// The fds the main thread's blocked call waits on (its fd argument, or
  /// the poll/epoll set).
  public var waitFDs: [Int32] = []
  public var stack: [String]
  public var stackNote: String?
  /// /proc/PID/cmdline (empty for a zombie or a kernel thread): names and
  /// roles (ProcessNaming), e.g. multiprocessing's resource tracker.
  public var cmdline: [String] = []
  /// The main thread's blocked call's timeout (K4); nil when it takes none.
  public var timeout: Timeout?
  /// Several samples across the window: working, spinning, idle (K5).
  public var progress: Progress?

  /// The fds the blocked call waits on, resolved.
  public var waited: [FDEvidence] { fds.filter { waitFDs.contains($0.fd) } }
  public var isZombie: Bool { state == "Z" || state == "X" }
}

/// One fd that matters to a block, and who holds its other end.
public struct FDEvidence: Sendable {
  public var fd: Int32
  public var link: String  // "socket:[123]", "pipe:[456]", "anon_inode:[pidfd]"
  /// Pids holding the other end: the socket's peer, the pipe's other direction.
  public var holders: [Int32]
  /// For people: "fd 3 socket:[123] other end held by 4101 fd 7 queued 0".
  public var text: String
  /// A wake-up channel (FDSnapshot.wakeup): only this process holds its other end.
  public var wakeup = false
  /// A listening socket: it waits for new clients, not for anyone in the tree.
  public var listening = false

  /// Sockets (sock_diag): bytes queued for reading (pending connections on
  /// a listener), the peer's inode, the bound name or "tcp A -> B".
  public var queued: UInt32? = nil
  public var peerInode: UInt64? = nil
  public var socketName: String? = nil

  public var isPipe: Bool { link.hasPrefix("pipe:") }
  public var isSocket: Bool { link.hasPrefix("socket:") }
  public var isPidfd: Bool { link.includes("pidfd") }
}

/// Kernel evidence and native stacks for a tree, as saved in evidence.json.
public struct Evidence: Sendable {
  public var processes: [Int32: ProcessEvidence] = [:]
  /// Kernel wait edges and their shape (chains and cycles as each snapshot saw them).
  public var graph = WaitGraph.empty
  public var unexplained: [Int32: String] = [:]
  public var snapshotMs: Double = 0
  public var stacksMs: Double = 0
  public var notes: [String] = []
  /// CLOCK_MONOTONIC when the snapshot was taken.
  public var takenAtNs: UInt64 = 0
  /// After merging several snapshots: when each process was last seen.
  public var seenAtNs: [Int32: UInt64] = [:]
  /// Python threads and tasks of the CPython processes among the stuck ones (PythonEvidence.swift).
  public var python: [Int32: PythonSnapshot] = [:]

  public init() {}

  /// Zombie pid -> the parent that has not reaped it (K6): consequences,
  /// never terminals or stuck processes.
  public var zombies: [Int32: Int32] {
    Dictionary(uniqueKeysWithValues: processes.values.filter(\.isZombie).map { ($0.pid, $0.ppid) })
  }

  /// "zombie N, not reaped by P", one line per zombie.
  public var zombieLines: [String] {
    zombies.sorted { $0.key < $1.key }.map { "zombie \($0.key), not reaped by \($0.value)" }
  }

  /// The note on a verdict when some process was still making progress (C5).
  public static let atWorkNote = "the tree was still at work at the deadline"

  /// Several snapshots of one run (each stall, then the deadline) as one
  /// body of evidence: each process as the latest snapshot saw it, every
  /// edge any snapshot saw.
  public static func merged(_ list: [Evidence]) -> Evidence {
    var m = Evidence()
    var edges: [WaitEdge] = []
    var chains: [[Int32]] = []
    var cycles: [[Int32]] = []
    for e in list.sorted(by: { $0.takenAtNs < $1.takenAtNs }) {
      for (pid, p) in e.processes {
        m.processes[pid] = p
        m.seenAtNs[pid] = e.takenAtNs
      }
      for ed in e.graph.edges where !edges.contains(where: { $0.from == ed.from && $0.to == ed.to && $0.kind == ed.kind }) {
        edges.append(ed)
      }
      for c in e.graph.cycles where !cycles.contains(where: { Set($0) == Set(c) }) { cycles.append(c) }
      for c in e.graph.chains where !chains.contains(c) { chains.append(c) }
      for (k, v) in e.unexplained { m.unexplained[k] = v }
      m.snapshotMs = max(m.snapshotMs, e.snapshotMs)
      m.stacksMs = max(m.stacksMs, e.stacksMs)
      for n in e.notes where !m.notes.contains(n) { m.notes.append(n) }
      m.takenAtNs = max(m.takenAtNs, e.takenAtNs)
      for (pid, py) in e.python { m.python[pid] = py }
    }
    m.graph = WaitGraph(edges: edges, chains: chains, cycles: cycles, terminals: [])
    // "At work at the deadline" is the last snapshot's to say, not a stall's.
    let last = list.max { $0.takenAtNs < $1.takenAtNs }
    if !(last?.notes.contains(atWorkNote) ?? false) { m.notes.removeAll { $0 == atWorkNote } }
    return m
  }

  /// evidence.json: `{"snapshots": [...]}` (or one snapshot object).
  public static func load(json v: JSONValue) -> Evidence {
    if let list = v["snapshots"]?.array { return merged(list.map(Evidence.init(json:))) }
    var e = Evidence(json: v)
    for p in e.processes.keys { e.seenAtNs[p] = e.takenAtNs }
    return e
  }

  /// Snapshots `pids` (and descendants), samples CPU time twice
  /// `sampleMs` apart (a busy loop shows as CPU used while "blocked"), and
  /// captures native stacks of every process in `stackPids`.
  /// `pythonPids`: whose Python frames to read (default: `stackPids`); reading
  /// them never stops a process, so it may include one whose native stack
  /// must not be taken.
  public static func collect(
    pids: [Int32], stackPids: [Int32], pythonPids: [Int32]? = nil, sampleMs: Int = 100, symbolizer: Symbolizer = .fast
  ) -> Evidence {
    let t0 = Syscalls.monotonicNs()
    let snap = KernelEvidence.snapshot(pids: pids, includeDescendants: true)
    let snapshotMs = Double(Syscalls.monotonicNs() - t0) / 1e6
    // Three samples across the window (0, sampleMs/2, sampleMs): one sample
    // of CPU ticks called a starved spinner "40 ms CPU in 100 ms" on a
    // loaded machine; schedstat's runnable time does not shrink with load.
    var samples: [Int32: [ProgressSample]] = [:]
    if sampleMs > 0 {
      samples = Progress.sample(snap.processes.map(\.pid), count: 3, intervalMs: sampleMs / 2)
    }
    var after: [Int32: UInt64] = [:]
    for p in snap.processes { if let a = cpuTicks(p.pid), sampleMs > 0 { after[p.pid] = a } }
    var e = Evidence(
      snapshot: snap, cpuTicksAfter: after, sampleMs: sampleMs > 0 ? sampleMs : nil,
      progress: samples.compactMapValues(Progress.judge))
    e.takenAtNs = t0
    e.snapshotMs = snapshotMs
    let t1 = Syscalls.monotonicNs()
    var native = Set<Int32>()
    for pid in stackPids where e.processes[pid] != nil {
      // Looking must not change what is looked at (see threadInWrite).
      if let t = snap.process(pid)?.threadInWrite {
        e.processes[pid]?.stackNote = "stack not taken: interrupting its blocked \(t.syscall?.name ?? "write") would cut it short"
        continue
      }
      native.insert(pid)
    }
    let python = Set((pythonPids ?? stackPids).filter { e.processes[$0] != nil })
    var seen = Set<Int32>()
    let requests = (stackPids + (pythonPids ?? [])).filter { seen.insert($0).inserted }
      .map { StackCapture.Request(pid: $0, native: native.contains($0), python: python.contains($0)) }
    let taken = StackCapture.take(requests, maxFrames: 32, symbolizer: symbolizer)
    for r in requests where r.native {
      guard let st = taken[r.pid]?.native else { continue }
      if let n = st.note { e.processes[r.pid]?.stackNote = n }
      if let main = st.threads.first {
        e.processes[r.pid]?.stack = main.frames.map { StackText.frameText($0) }
        if let n = main.note, e.processes[r.pid]?.stackNote == nil { e.processes[r.pid]?.stackNote = n }
      }
    }
    e.stacksMs = Double(Syscalls.monotonicNs() - t1) / 1e6
    if !NativeStacks.isAvailable {
      e.notes.append("native stacks unavailable: \(NativeStacks.unavailableReason ?? "libunwind not loaded")")
    }
    for (pid, t) in taken { if let snap = t.python, snap.isPython { e.python[pid] = snap } }
    return e
  }

  /// The evidence in a kernel snapshot, without stacks: pure, so that a
  /// stored snapshot gives the same evidence as a live one. `cpuTicksAfter`
  /// is each process's CPU time one sample (`sampleMs`) later.
  public init(
    snapshot snap: KernelSnapshot, cpuTicksAfter: [Int32: UInt64] = [:], sampleMs: Int? = nil,
    progress: [Int32: Progress] = [:]
  ) {
    for p in snap.processes {
      var pe = ProcessEvidence(
        pid: p.pid, ppid: p.ppid, comm: p.comm, state: String(p.state), threads: p.threads.count, syscall: nil,
        syscallName: nil, wchan: nil, cpuTicksDelta: nil, sampleMs: sampleMs, fds: [], waitFDs: [], stack: [],
        stackNote: nil)
      if let t = p.threads.first {
        pe.wchan = t.wchan
        if let s = t.syscall {
          pe.syscallName = s.name
          pe.syscall = Evidence.describe(s, p)
          pe.waitFDs = t.waitedFDs(in: p)
          pe.timeout = t.timeout
        } else if t.running {
          pe.syscall = "running"
        }
      }
      if sampleMs != nil, let a = cpuTicksAfter[p.pid] { pe.cpuTicksDelta = Int(a) - Int(p.cpuTicks) }
      pe.fds = p.fds.compactMap { f in
        Evidence.describe(f).map {
          var e = FDEvidence(
            fd: f.fd, link: f.link, holders: f.peers.map(\.pid), text: $0, wakeup: f.wakeup,
            listening: f.socketState == 10)
          (e.queued, e.peerInode, e.socketName) = (f.queued, f.peerInode, f.socketName)
          return e
        }
      }
      pe.cmdline = p.cmdline
      pe.progress = progress[p.pid]
      processes[p.pid] = pe
    }
    if progress.values.contains(where: { $0.activity == .working }) { notes.append(Evidence.atWorkNote) }
    graph = snap.graph
    unexplained = snap.unexplained
  }

  /// A timeout in JSON: ms, or null when infinite (see "timeoutInfinite").
  static func timeoutMs(_ t: Timeout) -> JSONValue {
    if case .after(let ms) = t { return .int(ms) }
    return .null
  }

  static func cpuTicks(_ pid: Int32) -> UInt64? {
    ProcStat.read(pid: pid)?.cpuTicks
  }

  /// The main thread's call, with its timeout when it has one.
  static func describe(_ s: SyscallInfo, _ p: ProcessSnapshot) -> String {
    let timed = Evidence.describeCall(s, p)
    guard let t = p.threads.first?.timeout, s.name != "wait4" else { return timed }
    return timed + " timeout \(t)"
  }

  static func describeCall(_ s: SyscallInfo, _ p: ProcessSnapshot) -> String {
    func fdText(_ n: Int32) -> String {
      guard let f = p.fd(n) else { return "fd \(n)" }
      return "fd \(n) \(f.link)"
    }
    switch s.name {
    case "read", "write", "recvfrom", "recvmsg", "sendto", "sendmsg", "connect", "accept", "accept4":
      return "\(s.name)(\(fdText(s.int32Arg(0))))"
    case "epoll_wait", "epoll_pwait", "epoll_pwait2":
      let watched = p.pollSet.map { " watching " + $0.map { fdText($0) }.joined(separator: ", ") } ?? ""
      return "\(s.name)(epoll \(fdText(s.int32Arg(0))))" + watched
    case "wait4": return "wait4(pid \(s.int32Arg(0)))"
    case "waitid": return "waitid(type \(s.int32Arg(0)), id \(s.int32Arg(1)))"
    case "poll", "ppoll":
      return "\(s.name)(" + (p.pollSet ?? []).map { fdText($0) }.joined(separator: ", ") + ")"
    default: return s.name
    }
  }

  static func describe(_ f: FDSnapshot) -> String? {
    switch f.kind {
    case .file(let path) where path.hasPrefix("/dev/null"): return nil
    default: break
    }
    var s = "fd \(f.fd) \(f.link)"
    if case .pidfd(let pid) = f.kind { s += " (Pid: \(pid))" }
    if !f.peers.isEmpty { s += " other end held by " + f.peers.map { "\($0.pid) fd \($0.fd)" }.joined(separator: ", ") }
    if let q = f.queued { s += " queued \(q)" }
    if f.wakeup { s += " (other end held only by this process)" }
    return s
  }

  // MARK: JSON

  public var json: JSONValue {
    [
      "takenAtNs": .int(Int64(takenAtNs)), "snapshotMs": .double(snapshotMs), "stacksMs": .double(stacksMs),
      "notes": .array(notes.map { .string($0) }),
      "processes": .array(
        processes.values.sorted { $0.pid < $1.pid }.map { p in
          [
            "pid": .int(Int64(p.pid)), "ppid": .int(Int64(p.ppid)), "comm": .string(p.comm), "state": .string(p.state),
            "threads": .int(Int64(p.threads)), "syscall": .from(p.syscall), "syscallName": .from(p.syscallName),
            "wchan": .from(p.wchan), "cpuTicksDelta": .from(p.cpuTicksDelta), "sampleMs": .from(p.sampleMs),
            "fds": .array(
              p.fds.map {
                [
                  "fd": .int(Int64($0.fd)), "link": .string($0.link), "holders": .array($0.holders.map { .int(Int64($0)) }),
                  "text": .string($0.text), "wakeup": .bool($0.wakeup), "listening": .bool($0.listening),
                  "queued": .from($0.queued), "peerInode": .from($0.peerInode), "socketName": .from($0.socketName),
                ]
              }),
            "waitFds": .array(p.waitFDs.map { .int(Int64($0)) }), "stack": .array(p.stack.map { .string($0) }),
            "stackNote": .from(p.stackNote), "cmdline": .array(p.cmdline.map { .string($0) }),
            "timeoutMs": p.timeout.map { Evidence.timeoutMs($0) } ?? .null,
            "timeoutInfinite": p.timeout.map { .bool($0.isInfinite) } ?? .null, "progress": p.progress?.json ?? .null,
          ]
        }),
      "edges": .array(
        graph.edges.map {
          [
            "from": .int(Int64($0.from)), "to": .int(Int64($0.to)), "kind": .string($0.kind.rawValue),
            "evidence": .string($0.evidence), "fd": .from($0.fd.map { Int64($0) }),
          ]
        }),
      "chains": .array(graph.chains.map { .array($0.map { .int(Int64($0)) }) }),
      "cycles": .array(graph.cycles.map { .array($0.map { .int(Int64($0)) }) }),
      "unexplained": .object(unexplained.sorted { $0.key < $1.key }.map { (String($0.key), .string($0.value)) }),
      "python": pythonJSON,
    ]
  }

  public init(json v: JSONValue) {
    takenAtNs = UInt64(max(0, v["takenAtNs"]?.int ?? 0))
    snapshotMs = v["snapshotMs"]?.double ?? 0
    stacksMs = v["stacksMs"]?.double ?? 0
    notes = (v["notes"]?.array ?? []).compactMap(\.string)
    for p in v["processes"]?.array ?? [] {
      guard let pid = p["pid"]?.int else { continue }
      var pe = ProcessEvidence(
        pid: Int32(pid), ppid: Int32(p["ppid"]?.int ?? 0), comm: p["comm"]?.string ?? "", state: p["state"]?.string ?? "?",
        threads: Int(p["threads"]?.int ?? 0), syscall: p["syscall"]?.string, syscallName: p["syscallName"]?.string,
        wchan: p["wchan"]?.string, cpuTicksDelta: p["cpuTicksDelta"]?.int.map { Int($0) },
        sampleMs: p["sampleMs"]?.int.map { Int($0) },
        fds: (p["fds"]?.array ?? []).compactMap { f in
          guard let fd = f["fd"]?.int, let link = f["link"]?.string else { return nil }
          var e = FDEvidence(
            fd: Int32(fd), link: link, holders: (f["holders"]?.array ?? []).compactMap { $0.int.map { Int32($0) } },
            text: f["text"]?.string ?? "fd \(fd) \(link)", wakeup: f["wakeup"]?.bool ?? false,
            listening: f["listening"]?.bool ?? false)
          e.queued = f["queued"]?.int.map { UInt32($0) }
          e.peerInode = f["peerInode"]?.int.map { UInt64($0) }
          e.socketName = f["socketName"]?.string
          return e
        },
        waitFDs: (p["waitFds"]?.array ?? []).compactMap { $0.int.map { Int32($0) } },
        stack: (p["stack"]?.array ?? []).compactMap(\.string), stackNote: p["stackNote"]?.string)
      pe.cmdline = (p["cmdline"]?.array ?? []).compactMap(\.string)
      if p["timeoutInfinite"]?.bool == true, p["timeoutMs"]?.int == nil {
        pe.timeout = Timeout.none
      } else if let ms = p["timeoutMs"]?.int {
        pe.timeout = .after(ms: ms)
      }
      pe.progress = Progress(json: p["progress"])
      processes[pe.pid] = pe
    }
    var edges: [WaitEdge] = []
    for ed in v["edges"]?.array ?? [] {
      guard let f = ed["from"]?.int, let t = ed["to"]?.int, let k = ed["kind"]?.string.flatMap(WaitKind.init(rawValue:))
      else { continue }
      edges.append(
        WaitEdge(from: Int32(f), to: Int32(t), kind: k, evidence: ed["evidence"]?.string ?? "", fd: ed["fd"]?.int.map { Int32($0) }))
    }
    let pids = { (x: JSONValue?) in (x?.array ?? []).map { ($0.array ?? []).compactMap { $0.int.map { Int32($0) } } } }
    graph = WaitGraph(edges: edges, chains: pids(v["chains"]), cycles: pids(v["cycles"]), terminals: [])
    for (k, val) in v["unexplained"]?.object ?? [] { if let p = Int32(k), let s = val.string { unexplained[p] = s } }
    python = Evidence.python(json: v["python"])
  }
}
