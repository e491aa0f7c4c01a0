import Glibc
import SystemCore

/// Writes this process's probe events: one `write(2)` per event on an
/// `O_APPEND` file, so that an event written before a SIGKILL is in the log
/// (the kernel owns the data once write returns; nothing is buffered here).
public final class ProbeWriter: @unchecked Sendable {
  // Loop-confined: actor processes are single-threaded, so no lock.
  private var fd: Int32
  public private(set) var pid: Int32
  public var actor: String
  private let directory: String

  /// Opens `DIR/PID.jsonl` for appending.
  public init(directory: String, actor: String) throws(SystemError) {
    self.directory = directory
    self.actor = actor
    self.pid = getpid()
    let f = try Syscalls.open("\(directory)/\(pid).jsonl", O_WRONLY | O_CREAT | O_APPEND)
    fd = f.take()
  }

  /// A writer that drops events (for tests and tools with no run dir).
  public init(discardingFor actor: String) {
    self.directory = ""
    self.actor = actor
    self.pid = getpid()
    fd = -1
  }

  /// After fork the child must not append to its parent's file: reopen under
  /// the child's own pid. The old fd is closed by the fork child's fd sweep.
  public func reopenAfterFork(actor: String) throws(SystemError) {
    self.actor = actor
    pid = getpid()
    guard !directory.isEmpty else { return }
    let f = try Syscalls.open("\(directory)/\(pid).jsonl", O_WRONLY | O_CREAT | O_APPEND)
    fd = f.take()
  }

  public var rawFD: Int32 { fd }

  /// Records one event. Failures are ignored on purpose: a full disk must not
  /// change the behaviour being observed.
  public func record(_ site: String, _ event: String, peer: Int32? = nil, detail: String? = nil) {
    guard fd >= 0 else { return }
    // Built by hand into a reused buffer: this runs on every probe. The line
    // is the same as ProbeEvent.line produces (tested).
    buf.removeAll(keepingCapacity: true)
    ascii("{\"t\":")
    int(Int64(bitPattern: Syscalls.monotonicNs()))
    ascii(",\"pid\":")
    int(Int64(pid))
    ascii(",\"actor\":")
    escaped(actor)
    ascii(",\"site\":")
    escaped(site)
    ascii(",\"ev\":")
    escaped(event)
    if let p = peer {
      ascii(",\"peer\":")
      int(Int64(p))
    }
    if let d = detail {
      ascii(",\"detail\":")
      escaped(d)
    }
    ascii("}\n")
    buf.withUnsafeBytes { b in
      var off = 0
      while off < b.count {
        let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
        if n < 0 { if errno == EINTR { continue }; return }
        off += n
      }
    }
  }

  private var buf: [UInt8] = {
    var b: [UInt8] = []
    b.reserveCapacity(512)
    return b
  }()

  @inline(__always) private func ascii(_ s: StaticString) {
    s.withUTF8Buffer { buf.append(contentsOf: $0) }
  }

  @inline(__always) private func int(_ v: Int64) {
    if v < 0 { buf.append(UInt8(ascii: "-")) }
    var x = v.magnitude
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var n = 0
    withUnsafeMutableBytes(of: &digits) { d in
      repeat {
        d[n] = UInt8(x % 10) + 48
        x /= 10
        n += 1
      } while x > 0
      while n > 0 {
        n -= 1
        buf.append(d[n])
      }
    }
  }

  /// JSON string escaping over UTF-8 bytes: only '"', '\\' and controls
  /// need it; multi-byte UTF-8 passes through unchanged.
  @inline(__always) private func escaped(_ s: String) {
    buf.append(34)
    var str = s
    str.withUTF8 { u in
      for c in u {
        switch c {
        case 34: buf.append(92); buf.append(34)
        case 92: buf.append(92); buf.append(92)
        case 10: buf.append(92); buf.append(110)
        case 13: buf.append(92); buf.append(114)
        case 9: buf.append(92); buf.append(116)
        case 0..<32:
          let hex: [UInt8] = Array("0123456789abcdef".utf8)
          buf.append(contentsOf: [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
        default: buf.append(c)
        }
      }
    }
    buf.append(34)
  }

  deinit { if fd >= 0 { close(fd) } }
}
