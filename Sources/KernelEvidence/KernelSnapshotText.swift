/// Human-readable rendering of a KernelSnapshot.
public enum KernelSnapshotText {
  public static func render(_ s: KernelSnapshot) -> String {
    var out = "kernel snapshot: \(s.processes.count) processes, \(s.edges.count) wait edges, took \(s.elapsedNs / 1000) us\n"
    for p in s.processes {
      // Scripts passed with -c carry newlines; keep one line per process.
      let cmd = p.cmdline.isEmpty ? "[\(p.comm)]" : oneLine(p.cmdline.joined(separator: " "))
      out += "pid \(p.pid) ppid \(p.ppid) \(p.state) cpu \(p.cpuTicks)t \(p.comm): \(truncate(cmd, 100))\n"
      for t in p.threads where !t.running {
        let sc = t.syscall.map { "\($0.name)(\($0.args.prefix(3).map { "0x" + String($0, radix: 16) }.joined(separator: ", ")))" } ?? "-"
        out += "  tid \(t.tid) \(t.state) \(sc)" + (t.wchan.map { " wchan \($0)" } ?? "") + "\n"
      }
      if let ps = p.pollSet { out += "  waits on fds \(ps.map(String.init).joined(separator: ","))\n" }
    }
    if !s.edges.isEmpty {
      out += "edges:\n"
      for e in s.edges { out += "  \(e.from) \(e.kind.rawValue) \(e.to): \(e.evidence)\n" }
    }
    for c in s.chains { out += "chain: " + c.map(String.init).joined(separator: " -> ") + "\n" }
    for c in s.cycles { out += "cycle: " + (c + [c[0]]).map(String.init).joined(separator: " -> ") + "\n" }
    if !s.terminals.isEmpty { out += "terminals: " + s.terminals.map(String.init).joined(separator: ", ") + "\n" }
    for pid in s.unexplained.keys.sorted() { out += "unexplained \(pid): \(s.unexplained[pid]!)\n" }
    return out
  }

  /// Newlines and tabs as spaces: one line of text per process.
  public static func oneLine(_ s: String) -> String {
    String(s.map { $0 == "\n" || $0 == "\t" ? " " : $0 })
  }

  public static func truncate(_ s: String, _ n: Int) -> String {
    s.count <= n ? s : String(s.prefix(n)) + "..."
  }
}
