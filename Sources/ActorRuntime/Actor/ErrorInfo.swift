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
  public var children: [ErrorInfo]

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
    self.children = children
  }

  public var json: JSONValue {
    var o: [(String, JSONValue)] = [
      ("type", .string(type)), ("message", .string(message)), ("actor", .string(actor)), ("pid", .int(Int64(pid))),
    ]
    if let b = boxedType { o.append(("boxedType", .string(b))) }
    if let t = traceback { o.append(("traceback", .string(t))) }
    o.append(("children", .array(children.map(\.json))))
    return .object(o)
  }

  public init?(json v: JSONValue) {
    guard let t = v["type"]?.string, let m = v["message"]?.string, let a = v["actor"]?.string else { return nil }
    self.init(
      type: t, message: m, actor: a, pid: Int32(truncatingIfNeeded: v["pid"]?.int ?? 0),
      boxedType: v["boxedType"]?.string, traceback: v["traceback"]?.string,
      children: (v["children"]?.array ?? []).compactMap(ErrorInfo.init(json:)))
  }

  /// The parent's view of a child's error: boxed, with the child's type kept.
  public func boxed(by child: String, pid: Int32) -> ErrorInfo {
    if type == "Cancelled" || type == "ActorDied" { return self }
    return ErrorInfo(
      type: "RemoteActorError", message: message, actor: child, pid: pid, boxedType: type, traceback: traceback,
      children: children)
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
