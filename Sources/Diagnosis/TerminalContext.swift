import KernelEvidence
import Probes

/// Everything a rule may look at for one terminal process: its probes (cut
/// at the moment the kernel last saw it), its parent's probes, the kernel's
/// view of it and of the rest of the tree, and the verdict so far.
public struct TerminalContext: Sendable {
  public let pid: Int32
  public let name: String
  public let verdict: Verdict
  /// This process's probes up to the last snapshot that saw it alive (a
  /// terminal rescued later, e.g. by its parent's death, moved on).
  public let events: [ProbeEvent]
  /// Its logical parent's probes, cut the same way.
  public let parentEvents: [ProbeEvent]
  /// Every process's probes; empty for a foreign tree.
  public let byPid: [Int32: [ProbeEvent]]
  public let evidence: Evidence?
  public let listener: CancelListener
  public let t0: UInt64

  init(
    pid: Int32, verdict: Verdict, byPid: [Int32: [ProbeEvent]], evidence: Evidence?, listener: CancelListener, t0: UInt64
  ) {
    self.pid = pid
    self.name = verdict.name(of: pid)
    self.verdict = verdict
    self.byPid = byPid
    self.evidence = evidence
    self.listener = listener
    self.t0 = t0
    let seen = evidence?.seenAtNs[pid]
    let cut = { (evs: [ProbeEvent]) in evs.filter { seen == nil || $0.t <= seen! } }
    events = cut(byPid[pid] ?? [])
    let parent = verdict.actors.first { $0.pid == pid }?.parentPid
    parentEvents = cut(parent.flatMap { byPid[$0] } ?? [])
  }

  /// The run's processes write probes (our own actors); a foreign tree under
  /// `watch` has none, and probe-based rules say nothing about it.
  public var writesProbes: Bool { !byPid.isEmpty }

  public var actor: ActorRecord? { verdict.actors.first { $0.pid == pid } }
  /// What the kernel saw of this process.
  public var process: ProcessEvidence? { evidence?.processes[pid] }
  public var syscallName: String { process?.syscallName ?? "" }
  /// Kernel wait edges leaving this process.
  public var edgesOut: [WaitEdge] { evidence?.graph.edges(from: pid) ?? [] }
  /// The first chain that ends here.
  public var chain: [Int32]? { verdict.waitChains.first { $0.last == pid } }
  public var seenAtNs: UInt64? { evidence?.seenAtNs[pid] }

  public func has(_ site: String, _ event: String) -> Bool {
    events.contains { $0.site == site && $0.event == event }
  }

  public func ms(_ t: UInt64) -> String { msText(t, t0) }

  /// Evidence lines every verdict shows: last probes, kernel state, the first
  /// kernel wait edge that is a wait (not the cancel listener), the stack.
  var commonEvidence: [String] {
    var ev: [String] = []
    let tail = events.suffix(4).map { "\($0.site) \($0.event) \(ms($0.t))" }.joined(separator: ", ")
    if !tail.isEmpty { ev.append("probes \(pid): \(tail)" + (actor?.reachedExit == false ? ", no EXIT" : "")) }
    if let pe = process {
      var k = "kernel \(pid): state \(pe.state), \(pe.syscall ?? "no syscall")"
      if let w = pe.wchan { k += ", wchan \(w)" }
      if let p = pe.progress {
        k += ", " + p.text
      } else if let d = pe.cpuTicksDelta, let s = pe.sampleMs {
        k += ", \(d * 10) ms CPU in \(s) ms"
      }
      ev.append(k)
    }
    if let e = edgesOut.first(where: { !listener.explains($0) }) {
      ev.append("edge \(pid) \(e.kind) \(e.to): \(e.evidence)")
    }
    if let pe = process, !pe.stack.isEmpty { ev.append("stack \(pid): " + pe.stack.prefix(4).joined(separator: " ← ")) }
    ev.append(contentsOf: pythonEvidence)
    return ev
  }
}

/// Syscalls the rules group by what they wait for.
enum SyscallGroups {
  /// Reading: data or EOF from a pipe or socket.
  static let reads: Set<String> = ["read", "recvfrom", "recvmsg"]
  /// Reading, or waiting for readiness of a set of fds.
  static let readsOrPolls: Set<String> = reads.union(["poll", "ppoll", "epoll_wait", "epoll_pwait", "select"])
}
