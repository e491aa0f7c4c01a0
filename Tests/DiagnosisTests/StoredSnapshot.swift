import Diagnosis
import KernelEvidence
import MiniJSON

/// A kernel snapshot read back from `tractor-diag snapshot --format json`
/// (what the regeneration script stores for trees under `watch`, which
/// writes no run directory), so that the watch verdict is built the same
/// way as live: KernelSnapshot -> Evidence -> ForeignTreeVerdict.
enum StoredSnapshot {
  static func kernelSnapshot(_ j: JSONValue) -> KernelSnapshot {
    let procs = (j["processes"]?.array ?? []).map(process)
    var edges: [WaitEdge] = []
    for e in j["edges"]?.array ?? [] {
      guard let f = e["from"]?.int, let t = e["to"]?.int, let k = e["kind"]?.string.flatMap(WaitKind.init(rawValue:))
      else { continue }
      edges.append(WaitEdge(from: Int32(f), to: Int32(t), kind: k, evidence: e["evidence"]?.string ?? ""))
    }
    var unexplained: [Int32: String] = [:]
    for (k, v) in j["unexplained"]?.object ?? [] { if let p = Int32(k), let s = v.string { unexplained[p] = s } }
    return KernelSnapshot(
      processes: procs, graph: WaitGraph(nodes: procs.map(\.pid), edges: edges), unexplained: unexplained, elapsedNs: 0)
  }

  static func int32(_ v: JSONValue?) -> Int32 { Int32(v?.int ?? 0) }

  /// One sample of progress.json (the fields of ProgressSample).
  static func progressSample(_ j: JSONValue) -> ProgressSample {
    func u(_ k: String) -> UInt64 { UInt64(max(0, j[k]?.int ?? 0)) }
    return ProgressSample(
      atNs: u("atNs"), onCpuNs: u("onCpuNs"), runDelayNs: u("runDelayNs"), minorFaults: u("minorFaults"),
      threadCount: Int(j["threadCount"]?.int ?? 0), rssPages: j["rssPages"]?.int ?? 0,
      threads: (j["threads"]?.array ?? []).compactMap(\.string), state: j["state"]?.string?.first ?? "?")
  }

  static func process(_ p: JSONValue) -> ProcessSnapshot {
    let threads = (p["threads"]?.array ?? []).map(thread)
    let pid = int32(p["pid"])
    // Snapshots stored before `wakeup` was written: the same test on the peers.
    let fds = (p["fds"]?.array ?? []).map { j in
      var f = fd(j)
      if j["wakeup"]?.bool == nil { f.wakeup = f.isWakeup(ownPid: pid) }
      return f
    }
    var pollSet: [Int32]? = nil
    for t in p["threads"]?.array ?? [] {
      let args = t["syscall"]?["args"]
      if let l = args?["fds"]?.array ?? args?["watched"]?.array {
        pollSet = l.map { int32($0.object != nil ? $0["fd"] : $0) }
        break
      }
    }
    return ProcessSnapshot(
      pid: int32(p["pid"]), ppid: int32(p["ppid"]), pgrp: int32(p["pgrp"]), comm: p["comm"]?.string ?? "",
      cmdline: (p["cmdline"]?.array ?? []).compactMap(\.string), state: p["state"]?.string?.first ?? "?",
      cpuTicks: UInt64(p["cpuTicks"]?.int ?? 0), startTime: 0, threads: threads, fds: fds, pollSet: pollSet)
  }

  static func thread(_ t: JSONValue) -> ThreadSnapshot {
    var sc: SyscallInfo? = nil
    if let s = t["syscall"], let n = s["number"]?.int {
      let raw = (s["raw"]?.array ?? []).compactMap { $0.string.flatMap { UInt64($0.dropFirst(2), radix: 16) } }
      sc = SyscallInfo(number: Int(n), args: raw)
    }
    let args = t["syscall"]?["args"]
    let address = args?["address"]?.string
    let ms = args?["timeoutMs"]?.int
    return ThreadSnapshot(
      tid: int32(t["tid"]), state: t["state"]?.string?.first ?? "?", syscall: sc, wchan: t["wchan"]?.string,
      running: t["running"]?.bool ?? false, pollFDs: args?["fds"]?.array?.map { int32($0) },
      connectTarget: address.map { $0.hasPrefix("unix:") ? String($0.dropFirst(5)) : $0 },
      timeout: ms.map { $0 < 0 ? Timeout.none : .after(ms: $0) })
  }

  static func fd(_ f: JSONValue) -> FDSnapshot {
    let link = f["link"]?.string ?? ""
    let kind: FDKind
    switch f["kind"]?.string {
    case "socket": kind = .socket(inode: UInt64(f["inode"]?.int ?? 0))
    case "pipe": kind = .pipe(inode: UInt64(f["inode"]?.int ?? 0))
    case "pidfd": kind = .pidfd(pid: int32(f["target"]))
    case "epoll": kind = .epoll(watched: (f["watched"]?.array ?? []).map { int32($0["fd"]) })
    case "file": kind = .file(path: f["path"]?.string ?? link)
    default: kind = .other(link)
    }
    var s = FDSnapshot(
      fd: int32(f["fd"]), link: link, kind: kind, writeOnly: f["end"]?.string == "write",
      peers: (f["peers"]?.array ?? []).map { FDHolder(pid: int32($0["pid"]), fd: int32($0["fd"])) },
      queued: f["queued"]?.int.map { UInt32($0) }, peerInode: f["peerInode"]?.int.map { UInt64($0) },
      socketState: f["listening"]?.bool == true ? 10 : nil, socketName: f["name"]?.string)
    s.socketIsTCP = s.socketName?.hasPrefix("tcp") ?? false
    s.wakeup = f["wakeup"]?.bool ?? false
    return s
  }
}
