import Glibc  // errno names only
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
  private var descriptor: FileDescriptor
  /// The socket's fd number (-1 once closed), for readiness waits and probes.
  public var fd: Int32 { descriptor.rawValue }
  private var inbox: [UInt8] = []
  private let loop: EventLoop
  /// One read buffer for the channel's life (a receive must not allocate).
  private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)

  /// Owns `descriptor` (closed on `close()`/deinit) and makes it non-blocking.
  public init(owning descriptor: consuming FileDescriptor, loop: EventLoop) {
    self.descriptor = descriptor
    self.loop = loop
    // Cannot fail on a socket we hold; if it did, a receive would block the loop.
    try? self.descriptor.setNonBlocking()
  }

  /// Adopts a raw fd (an inherited one, e.g. fd 3 of an actor).
  public convenience init(adopting fd: Int32, loop: EventLoop) {
    self.init(owning: FileDescriptor(adopting: fd), loop: loop)
  }

  public var isOpen: Bool { descriptor.isOpen }

  public func close() {
    guard descriptor.isOpen else { return }
    loop.forget(descriptor.rawValue)
    descriptor.close()
  }

  deinit {
    if descriptor.isOpen { loop.forget(descriptor.rawValue) }
    scratch.deallocate()
  }

  /// ECONNRESET/EPIPE: the peer is gone, which a channel reports as closed.
  private static func peerGone(_ e: SystemError) -> Bool { e.errno == ECONNRESET || e.errno == EPIPE }

  /// Sends one message; waits for room (bounded) if the socket buffer is full.
  public func send(_ m: Message, deadline: UInt64? = nil) async throws {
    guard descriptor.isOpen else { throw ChannelError.closed }
    let bytes = m.encoded()
    var off = 0
    while off < bytes.count {
      let sent: Result<IOResult<Int>, SystemError> = bytes.withUnsafeBytes { b in
        do throws(SystemError) { return .success(try descriptor.send(UnsafeRawBufferPointer(rebasing: b[off...]))) } catch {
          return .failure(error)
        }
      }
      let r: IOResult<Int>
      do { r = try sent.get() } catch {
        if Channel.peerGone(error) { throw ChannelError.closed }
        throw ChannelError.io(SystemError("send", errno: error.errno, context: "channel fd \(fd)"))
      }
      guard let n = r.value else {
        if try await loop.writable(fd, deadline: deadline) == .timedOut { throw ChannelError.timedOut }
        continue
      }
      off += n
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
      let r: IOResult<Int>
      do { r = try descriptor.receive(into: scratch) } catch {
        if Channel.peerGone(error) { throw ChannelError.closed }
        throw ChannelError.io(SystemError("recv", errno: error.errno, context: "channel fd \(fd)"))
      }
      guard let n = r.value else {
        if try await loop.readable(fd, deadline: deadline) == .timedOut { throw ChannelError.timedOut }
        continue
      }
      if n == 0 { throw ChannelError.closed }
      inbox.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
    }
  }

  /// Waits until the peer has closed its end (EOF), discarding data. Returns
  /// false at the deadline.
  public func waitForPeerClose(deadline: UInt64?) async throws -> Bool {
    while descriptor.isOpen {
      // Any error but would-block means the peer is gone too.
      guard let r = try? descriptor.receive(into: scratch) else { return true }
      switch r {
      case .done(0): return true
      case .done: continue
      case .wouldBlock:
        if try await loop.readable(fd, deadline: deadline) == .timedOut { return false }
      }
    }
    return true
  }
}
