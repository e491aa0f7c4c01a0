import MiniJSON

/// What the kernel showed one process doing at one moment: its state,
/// its blocked call, and whom it waits on. Evidence snapshots (stall,
/// deadline) and watch's samples both become these.
public struct WaitState: Sendable, Equatable {
  public struct Wait: Sendable, Equatable {
    public var kind: String
    public var pid: Int32
    public var fd: Int32?

    public init(kind: String, pid: Int32, fd: Int32?) {
      self.kind = kind
      self.pid = pid
      self.fd = fd
    }

    public var text: String { "\(kind) \(pid)" + (fd.map { " (fd \($0))" } ?? "") }
  }

  public var state: String
  public var syscall: String?
  public var waits: [Wait]

  public init(state: String, syscall: String?, waits: [Wait]) {
    self.state = state
    self.syscall = syscall
    self.waits = waits
  }

  /// "S epoll_wait → waits-exit-of 12176".
  public var name: String {
    var s = state + " " + (syscall ?? "-")
    if let w = waits.first { s += " → " + w.text }
    if waits.count > 1 { s += " +\(waits.count - 1)" }
    return s
  }

  public var args: [(String, JSONValue)] {
    [
      ("state", .string(state)), ("syscall", .from(syscall)),
      ("waits", .array(waits.map { ["kind": .string($0.kind), "pid": .int(Int64($0.pid)), "fd": .from($0.fd)] })),
    ]
  }
}

/// Per-process wait-state intervals from a series of observations: runs
/// of consecutive identical states become one interval, from the first
/// observation to the next observation that differs (or to `endNs`).
public enum WaitStates {
  public struct Interval: Sendable, Equatable {
    public var state: WaitState
    public var startNs: UInt64
    public var endNs: UInt64
    /// Observations merged into it.
    public var count: Int
  }

  /// `observations`: time order; each maps the processes seen then to
  /// their state. A process missing from an observation ends its interval
  /// there (it was gone, or not looked at).
  public static func intervals(_ observations: [(t: UInt64, states: [Int32: WaitState])], endNs: UInt64)
    -> [Int32: [Interval]]
  {
    var out: [Int32: [Interval]] = [:]
    var current: [Int32: Interval] = [:]
    for (t, states) in observations {
      for (pid, cur) in current where states[pid] != cur.state {
        var c = cur
        c.endNs = t
        out[pid, default: []].append(c)
        current[pid] = nil
      }
      for (pid, s) in states {
        if current[pid] == nil {
          current[pid] = Interval(state: s, startNs: t, endNs: t, count: 1)
        } else {
          current[pid]!.count += 1
        }
      }
    }
    for (pid, cur) in current {
      var c = cur
      c.endNs = max(endNs, c.startNs)
      out[pid, default: []].append(c)
    }
    return out
  }
}
