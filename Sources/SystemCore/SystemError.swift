import Glibc

/// The one error type of the system layer: which call failed, on what, and
/// the errno it returned.
public struct SystemError: Error, CustomStringConvertible, Sendable, Equatable {
  public var call: String
  public var errno: Int32
  public var context: String

  public init(_ call: String, errno: Int32, context: String = "") {
    self.call = call
    self.errno = errno
    self.context = context
  }

  public var description: String {
    let what = String(cString: strerror(errno))
    return context.isEmpty ? "\(call): \(what) (errno \(errno))" : "\(call) \(context): \(what) (errno \(errno))"
  }
}

/// Runs a syscall, retrying on EINTR (a signal interrupted it, nothing failed),
/// and turns -1 into a typed error.
@inline(__always)
public func retryingSyscall<R: BinaryInteger>(
  _ call: @autoclosure () -> String, context: @autoclosure () -> String = "", _ body: () -> R
) throws(SystemError) -> R {
  while true {
    let rc = body()
    if rc != -1 { return rc }
    let e = Glibc.errno
    if e == EINTR { continue }
    throw SystemError(call(), errno: e, context: context())
  }
}

/// The result of a syscall on a non-blocking fd: done, or "try again when the
/// fd is ready" (EAGAIN/EWOULDBLOCK). Would-block is not an error: callers
/// wait for readiness on the loop and call again.
public enum IOResult<Value> {
  case done(Value)
  case wouldBlock

  /// The value, or nil when the call would have blocked.
  @inline(__always) public var value: Value? {
    if case .done(let v) = self { return v }
    return nil
  }
}

extension IOResult: Sendable where Value: Sendable {}
extension IOResult: Equatable where Value: Equatable {}

/// Like `retryingSyscall`, for a non-blocking fd: EINTR is retried,
/// EAGAIN/EWOULDBLOCK becomes `.wouldBlock`, any other -1 a SystemError.
@inline(__always)
public func nonBlockingSyscall<R: BinaryInteger>(
  _ call: @autoclosure () -> String, context: @autoclosure () -> String = "", _ body: () -> R
) throws(SystemError) -> IOResult<R> {
  while true {
    let rc = body()
    if rc != -1 { return .done(rc) }
    let e = Glibc.errno
    if e == EINTR { continue }
    if e == EAGAIN || e == EWOULDBLOCK { return .wouldBlock }
    throw SystemError(call(), errno: e, context: context())
  }
}
