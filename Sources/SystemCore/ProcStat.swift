/// The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) that we use.
/// The one parser of that file: comm is in parentheses and may itself hold
/// spaces and ')', so the fields after it start after the LAST ')'.
public struct ProcStat: Sendable, Equatable {
  public var comm: String
  /// Field 3: R running, S sleeping, D disk sleep, Z zombie, T stopped, ...
  public var state: Character
  public var ppid: Int32
  public var pgrp: Int32
  /// utime + stime (fields 14 and 15), in clock ticks.
  public var cpuTicks: UInt64
  /// Field 22: start time after boot, in clock ticks.
  public var startTime: UInt64
  /// Field 10: minor page faults (memory touched for the first time).
  public var minorFaults: UInt64 = 0
  /// Field 20: number of threads.
  public var threadCount: Int = 0
  /// Field 24: resident set size, in pages.
  public var rssPages: Int64 = 0

  /// Parses the file's bytes; nil when it is not a stat line.
  public init?<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    let b = Array(bytes)
    guard let open = b.firstIndex(of: UInt8(ascii: "(")), let close = b.lastIndex(of: UInt8(ascii: ")")),
      open < close
    else { return nil }
    comm = String(decoding: b[(open + 1)..<close], as: UTF8.self)
    let rest = b[(close + 1)...].split(whereSeparator: { $0 == 32 || $0 == 10 || $0 == 9 })
    // rest[0] is field 3 (state); field N is rest[N - 3].
    guard rest.count > 19, let s = rest[0].first else { return nil }
    func num<T: FixedWidthInteger>(_ i: Int) -> T { T(String(decoding: rest[i], as: UTF8.self)) ?? 0 }
    state = Character(Unicode.Scalar(s))
    ppid = num(1)
    pgrp = num(2)
    let utime: UInt64 = num(11)
    let stime: UInt64 = num(12)
    cpuTicks = utime &+ stime
    startTime = num(19)
    minorFaults = num(7)
    threadCount = num(17)
    if rest.count > 21 { rssPages = num(21) }
  }

  /// Reads and parses /proc/PID/stat, or /proc/PID/task/TID/stat with `tid`;
  /// nil if the process is gone.
  public static func read(pid: Int32, tid: Int32? = nil) -> ProcStat? {
    let path = tid.map { "/proc/\(pid)/task/\($0)/stat" } ?? "/proc/\(pid)/stat"
    return Syscalls.readFile(path).flatMap { ProcStat($0) }
  }
}
