import CKernel
import Testing

/// The sock_diag reply decoder (CKernel.c parse_reply) on damaged replies:
/// regressions for what fuzz-kernel found.
@Suite(.timeLimit(.minutes(1)))
struct SockDiagReplyTests {
  /// A netlink header: length, type, flags, seq, pid (host order).
  private func header(length: UInt32, type: UInt16) -> [UInt8] {
    withUnsafeBytes(of: length.littleEndian) { Array($0) } + withUnsafeBytes(of: type.littleEndian) { Array($0) }
      + [0, 0] + [UInt8](repeating: 0, count: 8)
  }

  /// fuzz-kernel crash-f289eb09: the last message's nlmsg_len (33) is not a
  /// multiple of 4, so stepping past it took the remaining length below 0 and,
  /// cast to unsigned, the walk went on past the buffer's end. Here a valid
  /// AF_UNIX record sits just past the 35 bytes handed in: it must not be read.
  @Test func unalignedLastMessageEndsTheWalk() {
    var buf = header(length: 33, type: 1) + [UInt8](repeating: 0, count: 20)  // NLMSG_NOOP, padded to 36
    // SOCK_DIAG_BY_FAMILY (20), unix_diag_msg: family 1, type 1, state 10, pad, ino 77, cookie
    buf += header(length: 32, type: 20) + [1, 1, 10, 0, 77, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
    buf += header(length: 16, type: 3)  // NLMSG_DONE
    var raw: UnsafeMutablePointer<ck_unix_sock>?
    let n = buf.withUnsafeBytes { ck_unix_diag_parse($0.baseAddress, 35, &raw) }
    defer { ck_free(raw) }
    #expect(n == 0)
    // The whole buffer does hold that record: the decoder reads it when it is in bounds.
    var all: UnsafeMutablePointer<ck_unix_sock>?
    let m = buf.withUnsafeBytes { ck_unix_diag_parse($0.baseAddress, $0.count, &all) }
    defer { ck_free(all) }
    #expect(m == 1)
    #expect(all?[0].ino == 77)
  }
}
