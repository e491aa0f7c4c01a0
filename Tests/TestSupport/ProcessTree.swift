import Glibc

/// The tests' own view of the process tree: a walk of /proc/*/stat ppid
/// chains that shares no code with the product (SystemCore ProcStat,
/// ProcessList, Supervision TreeReaper), so a bug in the product's tree walk
/// cannot hide a process the product left behind.
public enum ProcessTree {
  /// (ppid, state) of `pid` from /proc/PID/stat; nil once it is gone.
  /// comm may hold spaces and ')': the fields start after the last ')'.
  public static func parentAndState(_ pid: pid_t) -> (ppid: pid_t, state: Character)? {
    guard let text = SpawnedTree.readProc("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count >= 2, let state = fields[0].first, let ppid = pid_t(fields[1]) else { return nil }
    return (ppid, state)
  }

  /// Every process whose ppid chain reaches `root` (zombies included).
  public static func descendants(of root: pid_t) -> [pid_t] {
    var children: [pid_t: [pid_t]] = [:]
    guard let dir = opendir("/proc") else { return [] }
    defer { closedir(dir) }
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      guard let pid = pid_t(name), let info = parentAndState(pid) else { continue }
      children[info.ppid, default: []].append(pid)
    }
    var out: [pid_t] = []
    var stack = children[root] ?? []
    while let p = stack.popLast() {
      out.append(p)
      stack += children[p] ?? []
    }
    return out.sorted()
  }

  /// Descendants of `root` that have not exited (neither zombie nor dead).
  public static func liveDescendants(of root: pid_t) -> [pid_t] {
    descendants(of: root).filter { p in
      guard let s = parentAndState(p)?.state else { return false }
      return s != "Z" && s != "X"
    }
  }

  /// Reaps every exited child of this process without waiting (waitpid WNOHANG).
  public static func reapExited() {
    var status: Int32 = 0
    while true {
      let r = waitpid(-1, &status, WNOHANG)
      if r > 0 || (r < 0 && errno == EINTR) { continue }
      return
    }
  }
}
