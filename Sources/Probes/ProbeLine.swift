import MiniJSON

/// The probe line format, built in one place for the writer and for
/// `ProbeEvent.line`:
/// `{"t":NS,"pid":P,"actor":"NAME","site":"SITE","ev":"EVENT","peer":PID?,"detail":"TEXT"?}`
/// Long fields are cut the same way everywhere (names to 200 bytes, the
/// detail to 2000, at a character boundary), so a line always fits the buffer.
enum ProbeLine {
  static let maxDetail = 2000
  static let maxName = 200
  /// Escaping turns a byte into at most 6 (\u00XX).
  static let capacity = 6 * (maxDetail + 3 * maxName) + 256

  /// Writes the line (with its newline) into `base`, which holds `capacity`
  /// bytes; returns its length.
  @inline(__always)
  static func build(
    into base: UnsafeMutablePointer<UInt8>, t: UInt64, pid: Int32, actor: String, site: String, event: String,
    peer: Int32?, detail: String?
  ) -> Int {
    var b = Builder(base: base, capacity: capacity)
    b.ascii("{\"t\":")
    b.int(Int64(bitPattern: t))
    b.ascii(",\"pid\":")
    b.int(Int64(pid))
    b.ascii(",\"actor\":")
    b.escaped(actor, max: maxName)
    b.ascii(",\"site\":")
    b.escaped(site, max: maxName)
    b.ascii(",\"ev\":")
    b.escaped(event, max: maxName)
    if let p = peer {
      b.ascii(",\"peer\":")
      b.int(Int64(p))
    }
    if let d = detail {
      b.ascii(",\"detail\":")
      b.escaped(d, max: maxDetail)
    }
    b.ascii("}\n")
    return b.count
  }

  /// Appends to a fixed buffer, never past its end.
  struct Builder {
    let base: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var count = 0

    @inline(__always) mutating func byte(_ c: UInt8) {
      if count < capacity {
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

    /// A quoted JSON string of at most `max` bytes of `s` (MiniJSON's escaper).
    @inline(__always) mutating func escaped(_ s: String, max: Int) {
      byte(34)
      var str = s
      str.withUTF8 { u in
        // Cut at a character boundary: never half of a multi-byte character.
        var end = Swift.min(u.count, max)
        if end < u.count { while end > 0 && u[end] & 0xC0 == 0x80 { end -= 1 } }
        JSONValue.escapeUTF8(UnsafeBufferPointer(rebasing: u[0..<end])) { byte($0) }
      }
      byte(34)
    }
  }
}
