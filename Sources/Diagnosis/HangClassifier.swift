import Probes

/// Names the cause of each terminal process from evidence alone: its probe
/// sequence, its parent's probes, the kernel's view (syscall, wchan, fds,
/// edges, CPU used between two samples) and its stack. The fault that was
/// injected is never an input: the same situation reached any other way
/// must get the same class.
public enum HangClassifier {
  public static let classes: [(name: String, meaning: String)] = [
    ("uncancellable-task", "a task kept waiting after its cancel request"),
    ("unbounded-teardown-wait", "actor main's finally waits without bound for peers to disconnect"),
    ("parent-channel-not-cancelled", "teardown waits on the shielded parent-channel loop nobody cancelled"),
    ("uncancellable-child-wait", "a wait on a child's exit that cancel cannot interrupt"),
    ("leaked-fd-holds-peer-open", "another process holds a copy of a channel end, so EOF never comes"),
    ("blocked-on-full-pipe", "blocked writing to a pipe nobody drains"),
    ("cancel-not-delivered", "cancel requests never reached the actor's cancel path"),
    ("exit-not-reached", "teardown completed but the process never exited"),
    ("died-during-boot", "the child died before connecting back; its parent still waits for it"),
    ("fork-from-multithreaded-parent", "forked from a process with several threads; the child never ran"),
    ("busy-loop", "spinning on the CPU instead of waiting"),
    ("forkserver-stall", "the fork server is stuck serving one client; others queue"),
    ("wait-cycle", "the wait chain closes on itself"),
    ("unexplained", "no known pattern fits; see the evidence"),
  ]

  public static func classify(
    verdict v: Verdict, byPid: [Int32: [ProbeEvent]], probeEdges: [ProbeWaitEdge], evidence: Evidence?, t0: UInt64
  ) -> [TerminalVerdict] {
    var terms: [Int32] = v.waitChains.compactMap(\.last)
    for s in v.stuck where !terms.contains(s) && !v.waitChains.contains(where: { $0.contains(s) }) { terms.append(s) }
    var out: [TerminalVerdict] = []
    for t in terms {
      var verdict = classifyOne(t, v: v, byPid: byPid, probeEdges: probeEdges, evidence: evidence, t0: t0)
      // A chain's end may only be waiting on the process above it, which is
      // the one whose state explains the hang: walk up while unexplained.
      if verdict.hangClass == "unexplained", let chain = v.waitChains.first(where: { $0.last == t }), chain.count >= 2,
        evidence?.edges.contains(where: { $0.from == t && $0.to == chain[chain.count - 2] }) ?? false
      {
        for up in chain.dropLast().reversed() {
          let u = classifyOne(up, v: v, byPid: byPid, probeEdges: probeEdges, evidence: evidence, t0: t0)
          if u.hangClass != "unexplained" && u.hangClass != "uncancellable-task" {
            verdict = u
            verdict.evidence.append("\(v.name(of: t)) \(t) below it only waits on it")
            break
          }
        }
      }
      // A server that serves one client at a time, read-blocked on this
      // chain's end while someone else waits in connect() to it.
      if verdict.hangClass == "unexplained", let ev = evidence,
        let chain = v.waitChains.first(where: { $0.last == t }),
        let accept = ev.edges.first(where: { e in e.kind == "waits-accept-from" && chain.contains(e.from) && chain.contains(e.to) }),
        let server = ev.processes[accept.to],
        ["recvfrom", "recvmsg", "read"].contains(server.syscallName ?? ""),
        ev.edges.contains(where: { $0.from == accept.to && $0.kind == "waits-data-from" && chain.contains($0.to) })
      {
        verdict = TerminalVerdict(
          pid: t, name: verdict.name, hangClass: "forkserver-stall",
          explanation:
            "\(v.name(of: accept.to)) \(accept.to) serves one client at a time: it is blocked in \(server.syscall ?? "recv") on the connection of \(verdict.name) \(t), which holds it and sends nothing, while \(v.name(of: accept.from)) \(accept.from) waits in connect()",
          evidence: ["edge \(accept.from) waits-accept-from \(accept.to): \(accept.evidence)", "kernel \(accept.to): \(server.syscall ?? "-"), wchan \(server.wchan ?? "-")"] + verdict.evidence,
          hint: "serve every client concurrently (non-blocking, one readiness callback per connection) and bound each request")
      }
      if !out.contains(where: { $0.pid == verdict.pid }) { out.append(verdict) }
    }
    // Specific causes first; a bare cycle or an unexplained stop after them.
    func rank(_ c: String) -> Int { c == "unexplained" ? 2 : (c == "wait-cycle" ? 1 : 0) }
    return out.enumerated().sorted { (rank($0.element.hangClass), $0.offset) < (rank($1.element.hangClass), $1.offset) }.map(\.element)
  }

  static func has(_ evs: [ProbeEvent], _ site: String, _ event: String) -> Bool {
    evs.contains { $0.site == site && $0.event == event }
  }

  static func ms(_ t: UInt64, _ t0: UInt64) -> String { "\(((Double(t &- t0) / 1e6) * 10).rounded() / 10) ms" }

  static func classifyOne(
    _ t: Int32, v: Verdict, byPid: [Int32: [ProbeEvent]], probeEdges: [ProbeWaitEdge], evidence: Evidence?, t0: UInt64
  ) -> TerminalVerdict {
    let name = v.name(of: t)
    // Judge the process as the kernel saw it: its probes up to the snapshot
    // (a terminal rescued later, e.g. by its parent's death, moved on).
    let seen = evidence?.seenAtNs[t]
    let evs = (byPid[t] ?? []).filter { seen == nil || $0.t <= seen! }
    let pe = evidence?.processes[t]
    let actor = v.actors.first { $0.pid == t }
    var ev: [String] = []
    let tail = evs.suffix(4).map { "\($0.site) \($0.event) \(ms($0.t, t0))" }.joined(separator: ", ")
    if !tail.isEmpty { ev.append("probes \(t): \(tail)" + (actor?.reachedExit == false ? ", no EXIT" : "")) }
    if let pe {
      var k = "kernel \(t): state \(pe.state), \(pe.syscall ?? "no syscall")"
      if let w = pe.wchan { k += ", wchan \(w)" }
      if let d = pe.cpuTicksDelta, let s = pe.sampleMs { k += ", \(d * 10) ms CPU in \(s) ms" }
      ev.append(k)
    }
    let parentPid = v.actors.first { $0.pid == t }?.parentPid
    if let e = evidence?.edges.first(where: { $0.from == t && !($0.to == parentPid && $0.kind == "waits-data-from" && !byPid.isEmpty) }) {
      ev.append("edge \(t) \(e.kind) \(e.to): \(e.evidence)")
    }
    if let pe, !pe.stack.isEmpty { ev.append("stack \(t): " + pe.stack.prefix(4).joined(separator: " ← ")) }
    func verdict(_ c: String, _ explanation: String, _ hint: String, extra: [String] = []) -> TerminalVerdict {
      TerminalVerdict(pid: t, name: name, hangClass: c, explanation: explanation, evidence: extra + ev, hint: hint)
    }
    let parentEvs = (actor?.parentPid.flatMap { byPid[$0] } ?? []).filter { seen == nil || $0.t <= seen! }

    // 0. In the finally: waiting for peers to disconnect.
    if let w = evs.last(where: { $0.site == "wait_for_no_more_peers" }), w.event == "ENTER",
      !(w.detail ?? "").hasPrefix("bound ") || !leakedHolders(t, pe: pe, v: v).isEmpty
    {
      // Who holds the other end of our channel? If anyone but the peer
      // (parent) does, EOF can never come.
      let holders = leakedHolders(t, pe: pe, v: v)
      if !holders.isEmpty {
        return verdict(
          "leaked-fd-holds-peer-open",
          "\(name) waits for its peer channel to close, but \(holders.prefix(4).joined(separator: ", "))\(holders.count > 4 ? " and \(holders.count - 4) more" : "") also hold(s) the other end, so EOF never comes",
          "close inherited fds after fork (close_range from 3 up, keep only your own channel)")
      }
      return verdict(
        "unbounded-teardown-wait", "\(name) is in actor main's finally, waiting for peers to disconnect, with no bound",
        "bound this wait (tractor bounds it at 3 s) or close the peer channel first")
    }
    // 0b. A spawn request that never came back, while the fork server is
    //     blocked reading one client's connection instead of serving all.
    if let fs = v.forkServerPid, let spe = evidence?.processes[fs],
      ["recvmsg", "recvfrom", "read"].contains(spe.syscallName ?? ""),
      let sp = evs.last(where: { $0.site == "spawn" }), sp.event == "ENTER"
    {
      let held = evidence?.edges.first { $0.from == fs }.map { "held by \(v.name(of: $0.to)) \($0.to)" } ?? "held by a client"
      return verdict(
        "forkserver-stall",
        "\(name)'s spawn request (\(sp.detail ?? "a child")) waits at the fork server \(fs), which is blocked in \(spe.syscall ?? "recvmsg") on one client's connection (\(held)) and serves no one else",
        "serve every client concurrently (non-blocking, one readiness callback per connection) and bound each request",
        extra: ["kernel \(fs) (fork server): \(spe.syscall ?? "-"), wchan \(spe.wchan ?? "-")"])
    }
    // 0c. Kernel only: blocked reading a pipe or socket whose other end is
    //     held by the reader itself (an fd kept across fork): EOF cannot come.
    if let pe, ["read", "recvfrom", "recvmsg", "poll", "ppoll", "epoll_wait", "epoll_pwait", "select"].contains(pe.syscallName ?? ""),
      let f = pe.waited.first(where: { ($0.isPipe || $0.isSocket) && $0.holders.contains(t) }),
      byPid.isEmpty || !evs.contains(where: { $0.site == "wait_for_no_more_peers" })
    {
      return verdict(
        "leaked-fd-holds-peer-open",
        "\(name) waits for data or EOF on fd \(f.fd) \(f.link), but it holds a copy of the other end itself, so EOF never comes",
        "close inherited fds after fork (close_range from 3 up, keep only your own channel)")
    }
    // 3. Blocked writing to a pipe nobody reads.
    if let pe, pe.syscallName == "write" || pe.wchan == "pipe_write", pe.waited.contains(where: \.isPipe) || pe.wchan == "pipe_write" {
      return verdict(
        "blocked-on-full-pipe", "\(name) is blocked in write(2) on a full pipe: \(pe.syscall ?? "write"); nobody drains the reading end",
        "drain or redirect child stdio (a file, /dev/null, or a reader that never stops)")
    }
    // 1. A cycle through this process.
    if let cyc = v.cycles.first(where: { $0.contains(t) }) {
      return verdict(
        "wait-cycle", "\(name) is part of a wait cycle " + cyc.map(String.init).joined(separator: " → ") + " → \(cyc[0])",
        "break the cycle: one side must stop waiting (bound it) or close its end")
    }
    // 2. Busy: CPU used while the tree should be idle.
    if let pe, let d = pe.cpuTicksDelta, let s = pe.sampleMs, d * 10 >= s / 2 {
      let spin = evs.last.map { "after \($0.site) \($0.event)" } ?? ""
      return verdict(
        "busy-loop", "\(name) is spinning on the CPU (\(d * 10) ms of CPU in \(s) ms) \(spin) instead of waiting",
        "a loop treats EOF or an error as 'try again': exit the loop on EOF")
    }
    // 4. Blocked in connect: a listener that does not accept (a fork server serving someone else).
    if let pe, pe.syscallName == "connect" || pe.wchan == "unix_wait_for_peer" {
      let to = evidence?.edges.first(where: { $0.from == t && $0.kind == "waits-accept-from" })
      let server = to.map { "\($0.to)" } ?? "the listener"
      return verdict(
        "forkserver-stall", "\(name) is blocked in connect() to \(server), which is not accepting: it is busy with one client",
        "serve every client concurrently (non-blocking, one readiness callback per connection) and bound each request")
    }
    // 5. Never ran: no probe, parent forked it from a multi-threaded process,
    //    or it vanished without EXIT.
    if evs.isEmpty {
      let fork = parentEvs.last { $0.site == "fork" && $0.event == "FORK" && ($0.detail ?? "").contains(name) }
        ?? parentEvs.last { $0.site == "fork" && $0.event == "FORK" }
      if let f = fork, let d = f.detail, let n = Int(d.split(separator: " ").first?.split(separator: "=").last ?? ""), n > 1 {
        return verdict(
          "fork-from-multithreaded-parent",
          "\(name) was forked from a process with \(n) threads and never reached its first probe",
          "fork only from a single-threaded process (a fork server started before any thread), or exec after fork",
          extra: ["parent probe: fork FORK (\(d)) \(ms(f.t, t0))"])
      }
      let cb = parentEvs.last { $0.site == "connect_back" && $0.peer == t }
      if cb?.event == "ENTER" || (pe?.state == "Z") || actor?.exitStatus != nil {
        var extra: [String] = []
        if let c = cb, let pp = actor?.parentPid {
          extra.append("probes \(pp): connect_back \(c.event) on \(t) \(ms(c.t, t0))\(c.event == "ENTER" ? ", never returned" : "")")
        }
        extra.append("\(t): no probe at all; " + (actor?.exitStatus.map { "ended with \($0)" } ?? pe.map { "state \($0.state)" } ?? "gone"))
        return verdict(
          "died-during-boot", "\(name) died during boot (\(actor?.exitStatus ?? pe.map { "state \($0.state)" } ?? "gone")) and its parent still waits for the connect-back",
          "race the connect-back against the child's pidfd (exit) and bound it", extra: extra)
      }
    }
    // 6. Teardown done, no exit.
    if has(evs, "actor_main", "TEARDOWN_DONE") || (has(evs, "actor_main", "RETURN") && !(actor?.reachedExit ?? false)) {
      return verdict(
        "exit-not-reached", "\(name) finished its teardown but never called _exit",
        "make the exit the last statement of every path (EXIT probe, then _exit(rc))")
    }
    // 8. Peers gone, msg loop still open: the shielded loop was not cancelled.
    if has(evs, "wait_for_no_more_peers", "RETURN") && has(evs, "msg_loop", "ENTER")
      && !evs.contains(where: { $0.site == "msg_loop" && $0.event != "ENTER" })
    {
      return verdict(
        "parent-channel-not-cancelled",
        "\(name) finished its teardown waits but its shielded parent-channel loop is still running: the cancel path never cancelled it",
        "cancel the parent-channel loop (by its own handle) in the cancel path")
    }
    // 9. Waiting on a child's exit in a way that ignores cancel.
    if let pe,
      pe.syscallName == "wait4" || pe.syscallName == "waitid" || pe.wchan == "do_wait"
        || ((pe.syscallName == "poll" || pe.syscallName == "ppoll") && pe.waited.contains(where: \.isPidfd))
        || (!(pe.syscallName ?? "").hasPrefix("epoll")
          && (evidence?.edges.contains { $0.from == t && $0.kind == "waits-exit-of" } ?? false))
    {
      return verdict(
        "uncancellable-child-wait", "\(name) is blocked in \(pe.syscall ?? "wait4") on a child's exit; cancel cannot interrupt it",
        "wait on the child's pidfd through the loop, so cancel can interrupt the wait")
    }
    // 10. Cancel asked but never handled.
    let cancelAsked = v.actors.contains { a in
      (byPid[a.pid] ?? []).contains { $0.site == "cancel_actor" && $0.peer == t && $0.event == "ENTER" && (seen == nil || $0.t <= seen!) }
    }
    if cancelAsked && !has(evs, "cancel", "ENTER") {
      let dropped = evs.contains { $0.site == "msg_loop" && $0.event == "DROPPED" }
      return verdict(
        "cancel-not-delivered",
        "\(name) was sent a cancel request but its cancel path never ran" + (dropped ? " (the message loop dropped it)" : ""),
        "make sure cancel requests reach the actor's cancel method, and keep the hard-kill ladder on as a backstop")
    }
    // 11. Cancel handled, but a task kept waiting.
    if has(evs, "cancel", "ENTER") && !has(evs, "cancel", "RETURN") {
      let what = evs.last(where: { $0.site == "behavior" })
      return verdict(
        "uncancellable-task",
        "\(name) got its cancel request (cancel ENTER) but a task kept waiting"
          + (what.map { ": \($0.site) \($0.event) never returned" } ?? ""),
        "make every wait cancellable (resume it on cancel), or bound it")
    }
    if has(evs, "behavior", "UNCANCELLABLE_WAIT") {
      return verdict(
        "uncancellable-task", "\(name) is in a wait that ignores cancellation (behavior never returned after its cancel)",
        "make every wait cancellable (resume it on cancel), or bound it")
    }
    let waiters = v.waitChains.filter { $0.last == t && $0.count > 1 }.map { $0.count - 1 }.max() ?? 0
    let doing = pe.map { " (\($0.syscall ?? "state \($0.state)"))" } ?? ""
    return verdict(
      "unexplained",
      waiters > 0
        ? "\(name) ends a chain of \(waiters) wait(s) on it\(doing), and no known pattern explains why it does not finish"
        : "\(name) is stuck\(doing) and no known pattern fits; see the evidence",
      "read the evidence lines and the stack: this process is the one to look at")
  }

  /// Holders of the peer end of this process's sockets other than its own
  /// parent: leaked copies (itself included).
  static func leakedHolders(_ t: Int32, pe: ProcessEvidence?, v: Verdict) -> [String] {
    guard let pe else { return [] }
    let parent = v.actors.first { $0.pid == t }?.parentPid
    var out: [String] = []
    for f in pe.fds where f.isSocket {
      for h in f.holders where h != parent {
        let n = h == t ? "itself" : v.name(of: h)
        if !out.contains(where: { $0.hasPrefix(n) }) { out.append("\(n) (\(h))") }
      }
    }
    return out
  }
}
