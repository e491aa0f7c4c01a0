/// How long a blocked call waits at most, decoded from its arguments (a
/// millisecond int for poll/epoll_wait, a timespec or timeval in the
/// caller's memory for the rest).
public enum Timeout: Sendable, Hashable, CustomStringConvertible {
  /// No timeout: waits until something happens.
  case none
  /// Wakes by itself after at most `ms` (from when it was read, for an
  /// absolute deadline; from the start of the call for a relative one).
  case after(ms: Int64)

  /// trio 0.22 caps every epoll timeout at 24 h (`trio.sleep_forever()` and
  /// an idle loop show timeout=86400000 ms): it wakes after a day, finds
  /// nothing to do and sleeps again. A timeout this long or longer is infinite.
  public static let trioCapMs: Int64 = 86_400_000

  /// The timeout in ms when it is finite and under trio's cap; nil otherwise.
  public var finiteMs: Int64? {
    if case .after(let ms) = self, ms < Timeout.trioCapMs { return ms }
    return nil
  }

  public var isInfinite: Bool { finiteMs == nil }

  public var description: String {
    switch self {
    case .none: return "infinite"
    case .after(let ms) where ms >= Timeout.trioCapMs: return "\(ms) ms (trio's 24 h cap: infinite)"
    case .after(let ms): return "\(ms) ms"
    }
  }

  /// A millisecond argument: negative is infinite.
  public static func ms(_ v: Int32) -> Timeout { v < 0 ? .none : .after(ms: Int64(v)) }

  /// Rounded up to whole ms, so that a wait of 0.4 ms does not read as 0.
  static func ns(_ ns: Int64) -> Timeout { .after(ms: max(0, (ns + 999_999) / 1_000_000)) }
}

extension Timeout {
  /// The timeout of a blocked call, or nil when it takes none (read,
  /// wait4, ...) or its timeout argument could not be read. `readMemory`
  /// reads the caller's memory (/proc/PID/mem); `nowNs` gives a clock's
  /// time, for absolute deadlines.
  public static func decode(
    _ sc: SyscallInfo, readMemory: (UInt64, Int) -> [UInt8]?, nowNs: (Int32) -> UInt64?
  ) -> Timeout? {
    func arg(_ i: Int) -> UInt64 { i < sc.args.count ? sc.args[i] : 0 }
    /// struct timespec {time_t tv_sec; long tv_nsec} or timeval {tv_sec; tv_usec}.
    func pair(_ address: UInt64, subUnitNs: Int64) -> Int64? {
      guard let b = readMemory(address, 16), b.count == 16 else { return nil }
      func i64(_ o: Int) -> Int64 { (0..<8).reduce(Int64(0)) { $0 | Int64(b[o + $1]) << (8 * $1) } }
      let sec = i64(0), sub = i64(8)
      guard sec >= 0, sub >= 0, sec < Int64.max / 2_000_000_000 else { return nil }
      return sec * 1_000_000_000 + sub * subUnitNs
    }
    func relative(_ address: UInt64, timeval: Bool = false) -> Timeout? {
      if address == 0 { return Timeout.none }
      return pair(address, subUnitNs: timeval ? 1000 : 1).map(Timeout.ns)
    }
    func absolute(_ address: UInt64, clock: Int32) -> Timeout? {
      if address == 0 { return Timeout.none }
      guard let deadline = pair(address, subUnitNs: 1), let now = nowNs(clock) else { return nil }
      return Timeout.ns(max(0, deadline - Int64(bitPattern: now)))
    }
    switch sc.number {
    case SyscallNR.poll: return .ms(sc.int32Arg(2))
    case SyscallNR.epollWait, SyscallNR.epollPwait: return .ms(sc.int32Arg(3))
    case SyscallNR.epollPwait2, SyscallNR.ppoll: return relative(arg(SyscallNR.ppoll == sc.number ? 2 : 3))
    case SyscallNR.select: return relative(arg(4), timeval: true)
    case SyscallNR.pselect6: return relative(arg(4))
    case SyscallNR.nanosleep: return relative(arg(0))
    case SyscallNR.clockNanosleep:
      let clock = sc.int32Arg(0)
      return arg(1) & 1 != 0 ? absolute(arg(2), clock: clock) : relative(arg(2))
    case SyscallNR.futex:
      let op = arg(1)
      switch op & 0x7f {
      case 0: return relative(arg(3))  // FUTEX_WAIT: relative
      case 9:  // FUTEX_WAIT_BITSET: absolute, CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME (256)
        return absolute(arg(3), clock: op & 256 != 0 ? 0 : 1)
      default: return nil
      }
    default: return nil
    }
  }
}
