import CSystem
import Glibc
import SystemCore

/// Why a receive gave no message.
public enum ChannelError: Error, Sendable, CustomStringConvertible, Equatable {
  case closed  // EOF: the peer closed its end (or died)
  case timedOut
  case malformed(String)  // the channel is closed after this
  case io(SystemError)

  public var description: String {
    switch self {
    case .closed: return "channel closed by peer"
    case .timedOut: return "timed out"
    case .malformed(let m): return "malformed frame: \(m)"
    case .io(let e): return e.description
    }
  }
}

/// One end of a Unix stream socketpair carrying framed messages. Non-blocking;
/// every receive is bounded by a deadline or cancellable.
public final class Channel: @unchecked Sendable {
  public private(set) var fd: Int32
  private var inbox: [UInt8] = []
  private let loop: EventLoop
  /// One read buffer for the channel's life (a receive must not allocate).
  private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)

  /// Adopts `fd` (closes it on `close()`/deinit).
  public init(adopting fd: Int32, loop: EventLoop) {
    self.fd = fd
    self.loop = loop
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
  }

  public var isOpen: Bool { fd >= 0 }

  public func close() {
    guard fd >= 0 else { return }
    loop.forget(fd)
    Glibc.close(fd)
    fd = -1
  }

  deinit {
    if fd >= 0 { loop.forget(fd); Glibc.close(fd) }
    scratch.deallocate()
  }

  /// Sends one message; waits for room (bounded) if the socket buffer is full.
  public func send(_ m: Message, deadline: UInt64? = nil) async throws {
    guard fd >= 0 else { throw ChannelError.closed }
    let bytes = m.encoded()
    var off = 0
    while off < bytes.count {
      let n = bytes.withUnsafeBytes { b in Glibc.send(fd, b.baseAddress! + off, b.count - off, Int32(MSG_NOSIGNAL)) }
      if n >= 0 { off += n; continue }
      let e = errno
      if e == EINTR { continue }
      if e == EAGAIN {
        if try await loop.writable(fd, deadline: deadline) == .timedOut { throw ChannelError.timedOut }
        continue
      }
      if e == EPIPE || e == ECONNRESET { throw ChannelError.closed }
      throw ChannelError.io(SystemError("send", errno: e, context: "channel fd \(fd)"))
    }
  }

  /// Receives one message. Throws `.closed` on EOF, `.timedOut` at the
  /// deadline, `.malformed` (and closes) on a bad frame, or CancellationError.
  public func receive(deadline: UInt64? = nil) async throws -> Message {
    while true {
      guard fd >= 0 else { throw ChannelError.closed }
      do {
        if let payload = try FrameCodec.decode(&inbox) {
          do { return try Message.decode(payload: payload) } catch {
            close()
            throw ChannelError.malformed(error.description)
          }
        }
      } catch let e as FrameCodec.DecodeError {
        close()
        throw ChannelError.malformed(e.description)
      }
      let n = Glibc.recv(fd, scratch.baseAddress, scratch.count, 0)
      if n > 0 {
        inbox.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
        continue
      }
      if n == 0 { throw ChannelError.closed }
      let e = errno
      if e == EINTR { continue }
      if e == EAGAIN {
        if try await loop.readable(fd, deadline: deadline) == .timedOut { throw ChannelError.timedOut }
        continue
      }
      if e == ECONNRESET { throw ChannelError.closed }
      throw ChannelError.io(SystemError("recv", errno: e, context: "channel fd \(fd)"))
    }
  }

  /// Waits until the peer has closed its end (EOF), discarding data. Returns
  /// false at the deadline.
  public func waitForPeerClose(deadline: UInt64?) async throws -> Bool {
    while fd >= 0 {
      let n = Glibc.recv(fd, scratch.baseAddress, scratch.count, 0)
      if n == 0 { return true }
      if n > 0 { continue }
      let e = errno
      if e == EINTR { continue }
      if e != EAGAIN { return true }
      if try await loop.readable(fd, deadline: deadline) == .timedOut { return false }
    }
    return true
  }
}
