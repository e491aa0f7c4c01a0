import Glibc  // O_* flags only
import SystemCore

/// Writes this process's probe events: one `write(2)` per event on an
/// `O_APPEND` file, so that an event written before a SIGKILL is in the log
/// (the kernel owns the data once write returns; nothing is buffered here).
public final class ProbeWriter: @unchecked Sendable {
  // Loop-confined: actor processes are single-threaded, so no lock.
  private let fd: FileDescriptor
  public private(set) var pid: Int32
  public var actor: String
  private let directory: String

  /// Opens `DIR/PID.jsonl` for appending.
  public init(directory: String, actor: String) throws(SystemError) {
    self.directory = directory
    self.actor = actor
    self.pid = Syscalls.pid
    fd = try Syscalls.open("\(directory)/\(pid).jsonl", O_WRONLY | O_CREAT | O_APPEND)
  }

  /// A writer that drops events (for tests and tools with no run dir).
  public init(discardingFor actor: String) {
    self.directory = ""
    self.actor = actor
    self.pid = Syscalls.pid
    fd = .none
  }

  /// Records one event. Failures are ignored on purpose: a full disk must not
  /// change the behaviour being observed.
  public func record(_ site: String, _ event: String, peer: Int32? = nil, detail: String? = nil) {
    guard fd.isOpen else { return }
    // Built by hand into a preallocated buffer through a local builder (no
    // String appends, no exclusivity checks on a class property): this runs
    // on every probe. The line is what ProbeEvent.line produces (tested).
    var b = LineBuilder(base: line, capacity: ProbeWriter.lineCapacity)
    b.ascii("{\"t\":")
    b.int(Int64(bitPattern: Syscalls.monotonicNs()))
    b.ascii(",\"pid\":")
    b.int(Int64(pid))
    b.ascii(",\"actor\":")
    b.escaped(ProbeWriter.cut(actor))
    b.ascii(",\"site\":")
    b.escaped(ProbeWriter.cut(site))
    b.ascii(",\"ev\":")
    b.escaped(ProbeWriter.cut(event))
    if let p = peer {
      b.ascii(",\"peer\":")
      b.int(Int64(p))
    }
    if let d = detail {
      b.ascii(",\"detail\":")
      // Escaping at most doubles... or sextuples (\u00XX) a byte: keep the
      // worst case inside the buffer.
      b.escaped(d.utf8.count <= ProbeWriter.maxDetail ? d : String(decoding: d.utf8.prefix(ProbeWriter.maxDetail), as: UTF8.self))
    }
    b.ascii("}\n")
    // One write(2) (O_APPEND: a short write only happens on a full disk).
    try? fd.writeAll(UnsafeRawBufferPointer(start: line, count: b.count))
  }

  @inline(__always) static func cut(_ s: String) -> String {
    s.utf8.count <= maxName ? s : String(decoding: s.utf8.prefix(maxName), as: UTF8.self)
  }

  static let maxDetail = 2000
  static let maxName = 200
  static let lineCapacity = 6 * (maxDetail + 3 * maxName) + 256
  private let line = UnsafeMutablePointer<UInt8>.allocate(capacity: ProbeWriter.lineCapacity)

  deinit { line.deallocate() }
}

/// Appends to a fixed buffer, never past its end.
struct LineBuilder {
  let base: UnsafeMutablePointer<UInt8>
  let capacity: Int
  var count = 0

  init(base: UnsafeMutablePointer<UInt8>, capacity: Int) {
    self.base = base
    self.capacity = capacity
  }

  // Bytes past this are dropped (record() cuts long details first, so a
  // line always fits: every field but the detail is short).
  private var limit: Int { capacity }

  @inline(__always) mutating func byte(_ c: UInt8) {
    if count < limit {
      base[count] = c
      count += 1
    }
  }

  @inline(__always) mutating func ascii(_ s: StaticString) {
    let p = s.utf8Start
    for i in 0..<s.utf8CodeUnitCount { byte(p[i]) }
  }

  @inline(__always) mutating func int(_ v: Int64) {
    if v < 0 { byte(UInt8(ascii: "-")) }
    var x = v.magnitude
    var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
    let n: Int = withUnsafeMutableBytes(of: &tmp) { d in
      var n = 0
      repeat {
        d[n] = UInt8(x % 10) + 48
        x /= 10
        n += 1
      } while x > 0
      return n
    }
    withUnsafeBytes(of: &tmp) { d in
      var i = n
      while i > 0 {
        i -= 1
        byte(d[i])
      }
    }
  }

  /// JSON string escaping over UTF-8 bytes: only '"', '\\' and controls
  /// need it; multi-byte UTF-8 passes through unchanged.
  @inline(__always) mutating func escaped(_ s: String) {
    byte(34)
    var str = s
    str.withUTF8 { u in
      for c in u {
        switch c {
        case 34: byte(92); byte(34)
        case 92: byte(92); byte(92)
        case 10: byte(92); byte(110)
        case 13: byte(92); byte(114)
        case 9: byte(92); byte(116)
        case 0..<32:
          let hex: StaticString = "0123456789abcdef"
          byte(92); byte(117); byte(48); byte(48)
          byte(hex.utf8Start[Int(c >> 4)]); byte(hex.utf8Start[Int(c & 15)])
        default: byte(c)
        }
      }
    }
    byte(34)
  }
}
