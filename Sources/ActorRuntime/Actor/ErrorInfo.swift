import MiniJSON

/// An error as it travels between actors, and the tree of them the root ends
/// up with. `type` is what the error is *here*: a leaf's own error
/// ("AssertionError"), "MultiError" for a nursery's gathered errors,
/// "RemoteActorError" for a child's error boxed by its parent (with
/// `boxedType` keeping what it was in the child), "Cancelled", "ActorDied".
public struct ErrorInfo: Sendable, Equatable {
  public var type: String
  public var message: String
  public var actor: String
  public var pid: Int32
  public var boxedType: String?
  public var traceback: String?
  /// The errors this one gathers or boxes. One decoded from a message holds
  /// its children's own children as their wire text (WireChildren), parsed
  /// only when asked for: an actor boxes and gathers its children's errors
  /// without reading below them, and passes that text on up (at depth 7 the
  /// root's children send trees of 511 errors).
  public var children: [ErrorInfo] {
    get { wireChildren.value(ErrorInfo.parseChildren) }
    set { wireChildren.set(newValue) }
  }
  private var wireChildren: WireChildren<ErrorInfo>

  public init(
    type: String, message: String, actor: String, pid: Int32, boxedType: String? = nil, traceback: String? = nil,
    children: [ErrorInfo] = []
  ) {
    self.type = type
    self.message = message
    self.actor = actor
    self.pid = pid
    self.boxedType = boxedType
    self.traceback = traceback
    self.wireChildren = WireChildren(children)
  }

  /// Equal errors have equal fields and equal children, however they are held.
  public static func == (a: ErrorInfo, b: ErrorInfo) -> Bool {
    a.type == b.type && a.message == b.message && a.actor == b.actor && a.pid == b.pid && a.boxedType == b.boxedType
      && a.traceback == b.traceback
      && a.wireChildren.equals(b.wireChildren, ErrorInfo.parseChildren)
  }

  /// Children from their deferred wire text, as `init?(json:)` reads them.
  private static func parseChildren(_ t: JSONText) -> [ErrorInfo] {
    ((try? t.parse())?.array ?? []).compactMap(ErrorInfo.init(json:))
  }

  public var json: JSONValue {
    var o: [(String, JSONValue)] = [
      ("type", .string(type)), ("message", .string(message)), ("actor", .string(actor)), ("pid", .int(Int64(pid))),
    ]
    if let b = boxedType { o.append(("boxedType", .string(b))) }
    if let t = traceback { o.append(("traceback", .string(t))) }
    o.append(("children", wireChildren.json(\.json)))
    return .object(o)
  }

  public init?(json v: JSONValue) {
    guard let t = v["type"]?.string, let m = v["message"]?.string, let a = v["actor"]?.string else { return nil }
    var deferred: JSONText? = nil
    var children: [ErrorInfo] = []
    switch v["children"] {
    case .deferred(let text)?: deferred = text
    case let c?: children = (c.array ?? []).compactMap(ErrorInfo.init(json:))
    case nil: break
    }
    self.init(
      type: t, message: m, actor: a, pid: Int32(truncatingIfNeeded: v["pid"]?.int ?? 0),
      boxedType: v["boxedType"]?.string, traceback: v["traceback"]?.string, children: children)
    if let deferred { wireChildren = WireChildren([], text: deferred) }
  }

  /// The parent's view of a child's error: boxed, with the child's type kept.
  public func boxed(by child: String, pid: Int32) -> ErrorInfo {
    if type == "Cancelled" || type == "ActorDied" { return self }
    var e = self
    e.type = "RemoteActorError"
    e.actor = child
    e.pid = pid
    e.boxedType = type
    return e  // the children as they are held (deferred ones stay text)
  }

  /// Gathers a nursery's failures: one is raised as itself, more as a MultiError.
  public static func gather(_ errors: [ErrorInfo], actor: String, pid: Int32) -> ErrorInfo? {
    if errors.isEmpty { return nil }
    if errors.count == 1 { return errors[0] }
    return ErrorInfo(
      type: "MultiError", message: "\(errors.count) errors from \(actor)'s nursery", actor: actor, pid: pid,
      children: errors)
  }

  /// One line, e.g. `RemoteActorError(spawner_0_depth_1: MultiError) [2]`.
  public var summary: String {
    let what = boxedType.map { "\(type)(\($0) from \(actor))" } ?? "\(type)(\(actor))"
    return children.isEmpty ? what + ": " + message : what + " [\(children.count)]"
  }

  /// Every node of the tree, depth first, with its depth.
  public func walk(_ depth: Int = 0) -> [(Int, ErrorInfo)] {
    [(depth, self)] + children.flatMap { $0.walk(depth + 1) }
  }
}
