/// The process tree as /proc shows it, for any pid (ours or not).
public enum ProcessList {
  /// Direct children: /proc/PID/task/TID/children for every thread TID
  /// (a child is listed under the thread that forked it).
  public static func children(of pid: Int32) -> [Int32] {
    var out: [Int32] = []
    for tid in Syscalls.listDirectory("/proc/\(pid)/task") {
      guard let b = Syscalls.readFile("/proc/\(pid)/task/\(tid)/children") else { continue }
      for part in b.split(separator: 32) { if let p = Int32(String(decoding: part, as: UTF8.self)) { out.append(p) } }
    }
    return out
  }

  /// All descendants, breadth first, `pid` itself excluded (zombies included).
  public static func descendants(of pid: Int32) -> [Int32] {
    var seen: Set<Int32> = [pid]
    var out: [Int32] = []
    var head = 0
    var queue = [pid]
    while head < queue.count {
      let p = queue[head]
      head += 1
      for kid in children(of: p) where seen.insert(kid).inserted {
        out.append(kid)
        queue.append(kid)
      }
    }
    return out
  }

  /// The state letter of /proc/PID/stat ("Z" zombie, "S", "R", ...), nil if gone.
  public static func state(_ pid: Int32) -> Character? {
    ProcStat.read(pid: pid)?.state
  }
}
