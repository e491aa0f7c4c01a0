import KernelEvidence
import MiniJSON
import NativeStacks
import PythonStacks

/// What `tractor-diag snapshot` found: a kernel snapshot (/proc + sock_diag) of a
/// process set, the native stacks of its threads (optional), and notes about what
/// could not be read. Rendered for people (`text`), programs (`json`) or Graphviz (`dot`).
///
/// JSON shape (`json`), keys in this order:
///
///     {
///       "processes": [{
///         "pid", "ppid", "pgrp", "comm", "cmdline": [str], "name", "role" (ProcessRole, from the
///         cmdline: ProcessNaming), "state": "S", "blocked": bool, "cpuTicks",
///         "threads": [{
///           "tid", "state", "running": bool,
///           "syscall": null | {"name", "number", "args": {named, decoded arguments},
///                              "raw": ["0x..." x6], "text": "read(fd=3 pipe:[12], count=65536)"},
///           "wchan": str|null,
///           "stack": null (not captured) | [{"pc": "0x..", "symbol", "offset", "module",
///                                            "moduleOffset": "0x..", "location", "text"}],
///           "stackNote": str|null
///         }],
///         "fds": [{"fd", "link", "kind": socket|pipe|pidfd|epoll|file|other, kind details
///                  (socket: inode, peerInode, listening, name; pipe: inode, end; pidfd: target;
///                   epoll: watched [fd objects, resolved the same way]; file: path),
///                  "peers": [{"pid", "fd"}], "queued": int|null, "blocking": bool}],
///         "stackNote": str|null,
///         "python": null (not Python, or --no-python) | PythonSnapshot.json (Sources/PythonStacks)
///       }],
///       "edges": [{"from", "to", "kind": "waits-exit-of"|..., "evidence"}],
///       "chains": [[pid]], "cycles": [[pid]], "terminals": [pid],
///       "unexplained": {"pid": reason},
///       "elapsedMs": snapshot time (stacks included: they are taken while
///       the set is read), "stacksMs": stack capture time summed over the processes, "notes": [str],
///       "pids": [requested pids], "tree": bool, "stacks": bool
///     }
///
/// "blocking" marks the fds a blocked thread's syscall is waiting on (its fd argument,
/// a poll()/select() caller's fd array, an epoll fd and the fds it watches, the pidfd of
/// waitid(P_PIDFD)).
public struct SnapshotReport: Sendable {
  public var snapshot: KernelSnapshot
  /// Native stacks by pid; empty when stacks were not taken.
  public var stacks: [Int32: ProcessStacks]
  public var stacksTaken: Bool
  public var stacksNs: UInt64
  public var notes: [String]
  /// The pids asked for, in order.
  public var requested: [Int32]
  public var tree: Bool
  /// Python views by pid (PythonStackReport.swift renders them); empty when not taken.
  public var python: [Int32: PythonSnapshot] = [:]

  public init(snapshot: KernelSnapshot, stacks: [Int32: ProcessStacks] = [:], stacksTaken: Bool = false,
              stacksNs: UInt64 = 0, notes: [String] = [], requested: [Int32], tree: Bool) {
    self.snapshot = snapshot
    self.stacks = stacks
    self.stacksTaken = stacksTaken
    self.stacksNs = stacksNs
    self.notes = notes
    self.requested = requested
    self.tree = tree
  }

  public var elapsedMs: Double { SnapshotReport.ms(snapshot.elapsedNs) }
  public var stacksMs: Double { SnapshotReport.ms(stacksNs) }

  /// Milliseconds rounded to 0.1.
  static func ms(_ ns: UInt64) -> Double { Double(ns / 100_000) / 10 }

  // MARK: - JSON

  public var json: JSONValue {
    let s = snapshot
    return .object([
      ("processes", .array(s.processes.map { processJSON($0) })),
      ("edges", .array(s.edges.map {
        .object([("from", .int(Int64($0.from))), ("to", .int(Int64($0.to))), ("kind", .string($0.kind.rawValue)),
                 ("evidence", .string($0.evidence))])
      })),
      ("chains", .array(s.chains.map { .array($0.map { .int(Int64($0)) }) })),
      ("cycles", .array(s.cycles.map { .array($0.map { .int(Int64($0)) }) })),
      ("terminals", .array(s.terminals.map { .int(Int64($0)) })),
      ("unexplained", .object(s.unexplained.sorted { $0.key < $1.key }.map { (String($0.key), .string($0.value)) })),
      ("elapsedMs", .double(elapsedMs)),
      ("stacksMs", .double(stacksMs)),
      ("notes", .array(notes.map { .string($0) })),
      ("pids", .array(requested.map { .int(Int64($0)) })),
      ("tree", .bool(tree)),
      ("stacks", .bool(stacksTaken)),
    ])
  }

  func processJSON(_ p: ProcessSnapshot) -> JSONValue {
    let st = stacks[p.pid]
    let blocking = p.blockingFDs
    let threads: [JSONValue] = p.threads.map { t in
      var sc: JSONValue = .null
      if let s = t.syscall {
        let d = SnapshotReport.decode(s, thread: t, process: p)
        sc = .object([
          ("name", .string(s.name)), ("number", .int(Int64(s.number))), ("args", .object(d.args)),
          ("raw", .array(s.args.map { .string("0x" + String($0, radix: 16)) })), ("text", .string(d.text)),
        ])
      }
      let ts = st?.threads.first { $0.tid == t.tid }
      return .object([
        ("tid", .int(Int64(t.tid))), ("state", .string(String(t.state))), ("running", .bool(t.running)),
        ("syscall", sc), ("wchan", .from(t.wchan)),
        ("stack", ts.map { .array($0.frames.map(SnapshotReport.frameJSON)) } ?? .null),
        ("stackNote", .from(ts?.note)),
      ])
    }
    return .object([
      ("pid", .int(Int64(p.pid))), ("ppid", .int(Int64(p.ppid))), ("pgrp", .int(Int64(p.pgrp))),
      ("comm", .string(p.comm)), ("cmdline", .array(p.cmdline.map { .string($0) })),
      ("name", .from(snapshot.identity(of: p.pid)?.name)), ("role", .from(snapshot.identity(of: p.pid)?.role.rawValue)),
      ("state", .string(String(p.state))), ("blocked", .bool(p.isBlocked)), ("cpuTicks", .int(Int64(p.cpuTicks))),
      ("threads", .array(threads)),
      ("fds", .array(p.fds.map { SnapshotReport.fdJSON($0, in: p, blocking: blocking, nested: true) })),
      ("stackNote", .from(st?.note)),
      ("python", pythonJSON(p.pid)),
    ])
  }

  static func fdJSON(_ f: FDSnapshot, in p: ProcessSnapshot, blocking: Set<Int32>, nested: Bool) -> JSONValue {
    var o: [(String, JSONValue)] = [("fd", .int(Int64(f.fd))), ("link", .string(f.link)), ("kind", .string(kindName(f.kind)))]
    switch f.kind {
    case .socket(let ino):
      o.append(("inode", .int(Int64(bitPattern: ino))))
      o.append(("peerInode", f.peerInode.map { .int(Int64(bitPattern: $0)) } ?? .null))
      o.append(("listening", .bool(f.socketState == 10)))
      o.append(("name", .from(f.socketName)))
    case .pipe(let ino):
      o.append(("inode", .int(Int64(bitPattern: ino))))
      o.append(("end", .string(f.writeOnly ? "write" : "read")))
    case .pidfd(let target):
      o.append(("target", .int(Int64(target))))
    case .epoll(let watched):
      o.append(("watched", .array(watched.map { w in
        if nested, let wf = p.fd(w) { return fdJSON(wf, in: p, blocking: blocking, nested: false) }
        return .object([("fd", .int(Int64(w))), ("link", .null)])
      })))
    case .file(let path):
      o.append(("path", .string(path)))
    case .other:
      break
    }
    o.append(("peers", .array(f.peers.map { .object([("pid", .int(Int64($0.pid))), ("fd", .int(Int64($0.fd)))]) })))
    o.append(("queued", .from(f.queued))); o.append(("wakeup", .bool(f.wakeup)))
    o.append(("blocking", .bool(blocking.contains(f.fd))))
    return .object(o)
  }

  static func frameJSON(_ f: StackFrame) -> JSONValue {
    .object([
      ("pc", .string("0x" + String(f.pc, radix: 16))), ("symbol", .from(f.symbol)), ("offset", .int(Int64(bitPattern: f.offset))),
      ("module", .from(f.module)), ("moduleOffset", .from(f.moduleOffset.map { "0x" + String($0, radix: 16) })),
      ("location", .from(f.location)), ("text", .string(StackText.frameText(f))),
    ])
  }

  // MARK: - Dot

  public var dot: String { KernelSnapshotDot.render(snapshot) }

  // MARK: - Text

  func name(_ pid: Int32) -> String {
    snapshot.identity(of: pid).map { "\(pid) \($0.name)" } ?? "\(pid)"
  }

  /// What `pid` is doing: state, the first blocked thread's decoded syscall and wchan.
  func doing(_ pid: Int32) -> String {
    guard let p = snapshot.process(pid) else { return "not in snapshot" }
    if p.state == "Z" { return "zombie (exited, not reaped by \(p.ppid))" }
    let t = p.threads.first { !$0.running && $0.syscall != nil } ?? p.threads.first { !$0.running } ?? p.threads.first
    guard let t else { return "state \(p.state)" }
    var s = "state \(t.state)"
    if t.running {
      s += ", running"
    } else if let sc = t.syscall {
      s += ", " + (t.tid == p.pid ? "" : "tid \(t.tid) ") + "in " + SnapshotReport.decode(sc, thread: t, process: p).text
    }
    if let w = t.wchan { s += ", wchan \(w)" }
    return s
  }

  /// `doing(pid)` plus the wait-graph's reason when it adds something.
  func status(_ pid: Int32) -> String {
    let d = doing(pid)
    guard let why = snapshot.unexplained[pid], !d.contains(why) else { return d }
    return d + "; " + why
  }

  public var text: String {
    let s = snapshot
    var out = "snapshot of \(s.processes.count) process\(s.processes.count == 1 ? "" : "es") "
    out += "(\(requested.map(String.init).joined(separator: ", "))\(tree ? " and descendants" : "")): "
    out += "\(s.edges.count) wait edge\(s.edges.count == 1 ? "" : "s"), \(s.cycles.count) cycle\(s.cycles.count == 1 ? "" : "s"), "
    out += "\(s.chains.count) chain\(s.chains.count == 1 ? "" : "s"); took \(elapsedMs) ms"
    out += stacksTaken ? ", stacks included (\(stacksMs) ms of capture time over all processes)\n" : "\n"

    // The answer: cycles, chains (with where each ends), terminals.
    if s.edges.isEmpty { out += "no process in the set waits for another one in the set\n" }
    for c in s.cycles {
      out += "CYCLE: " + (c + [c[0]]).map { name($0) }.joined(separator: " -> ") + "\n"
    }
    let cycleMembers = Set(s.cycles.flatMap { $0 })
    for c in s.chains {
      out += "chain: " + c.map { name($0) }.joined(separator: " -> ") + "\n"
      if let last = c.last {
        if s.terminals.contains(last) {
          out += "  ends at \(name(last)): \(status(last))\n"
        } else if cycleMembers.contains(last) {
          out += "  runs into the cycle at \(name(last))\n"
        }
      }
    }
    let chainEnds = Set(s.chains.compactMap { $0.last })
    let otherTerminals = s.terminals.filter { !chainEnds.contains($0) }
    if !otherTerminals.isEmpty {
      out += (chainEnds.isEmpty ? "terminals" : "other terminals") + " (wait on nothing in the set):\n"
      for t in otherTerminals { out += "  \(name(t)): \(status(t))\n" }
    }
    if !s.edges.isEmpty {
      out += "wait-for edges:\n"
      for e in s.edges { out += "  \(e.from) \(e.kind.rawValue) \(e.to): \(e.evidence)\n" }
    }
    let others = s.unexplained.keys.sorted().filter { !s.terminals.contains($0) }
    if !others.isEmpty {
      out += "unexplained:\n"
      for pid in others { out += "  \(name(pid)): \(s.unexplained[pid]!)\n" }
    }
    if !notes.isEmpty {
      out += "notes:\n"
      for n in notes { out += "  \(n)\n" }
    }

    // Per-process detail.
    out += "\nprocesses:\n"
    for p in s.processes {
      let cmd = p.cmdline.isEmpty ? "[\(p.comm)]" : KernelSnapshotText.oneLine(p.cmdline.joined(separator: " "))
      out += "pid \(p.pid) ppid \(p.ppid) pgrp \(p.pgrp) \(p.comm) state \(p.state), \(p.threads.count) thread"
      out += "\(p.threads.count == 1 ? "" : "s"), cpu \(p.cpuTicks) ticks: \(KernelSnapshotText.truncate(cmd, 100))\n"
      for t in p.threads {
        out += "  thread \(t.tid) \(t.state) "
        if t.running {
          out += "running"
        } else if let sc = t.syscall {
          out += SnapshotReport.decode(sc, thread: t, process: p).text
        } else {
          out += "not in a syscall"
        }
        if let w = t.wchan { out += " wchan \(w)" }
        out += "\n"
      }
      let blocking = p.blockingFDs
      for f in p.fds where blocking.contains(f.fd) {
        out += "  " + SnapshotReport.fdText(f) + "\n"
        if case .epoll(let watched) = f.kind {
          for w in watched {
            out += "    watches " + (p.fd(w).map { SnapshotReport.fdText($0) } ?? "fd \(w) (closed)") + "\n"
          }
        }
      }
      let rest = p.fds.count - p.fds.filter { blocking.contains($0.fd) }.count
      if rest > 0 { out += "  (\(rest) other fd\(rest == 1 ? "" : "s") not involved in a wait; see --format json)\n" }
    }

    out += pythonText
    // Native stacks.
    if stacksTaken {
      out += "\nnative stacks:\n"
      for p in s.processes {
        guard let st = stacks[p.pid] else { continue }
        out += StackText.render(st)
      }
    }
    return out
  }

  /// "fd 3 pipe:[123] read end; writers: 1235 fd 4" style.
  static func fdText(_ f: FDSnapshot) -> String {
    var s = "fd \(f.fd) \(f.link)"
    let holders = f.peers.map { "\($0.pid) fd \($0.fd)" }.joined(separator: ", ")
    switch f.kind {
    case .socket:
      if f.socketIsTCP, let n = f.socketName { s += " " + n }  // its ends, "(listening)" included
      if f.socketState == 10 {
        if !f.socketIsTCP { s += " listening" + (f.socketName.map { " on unix:\($0)" } ?? "") }
      } else if f.peerInode != nil {
        s += "; peer held by " + (holders.isEmpty ? "nobody found" : holders)
      } else {
        s += "; no peer on this machine"
      }
      if let q = f.queued { s += "; \(q) \(f.socketState == 10 ? "pending connections" : "bytes queued")" }
    case .pipe:
      s += f.writeOnly ? " write end; readers: " : " read end; writers: "
      s += holders.isEmpty ? "none" : holders
    case .pidfd(let target):
      s += target < 0 ? " (target reaped)" : " -> pid \(target)"
    case .epoll(let watched):
      s += " watching fds " + (watched.isEmpty ? "none" : watched.map(String.init).joined(separator: ", "))
    case .file, .other:
      break
    }
    return s
  }

}
