import MiniJSON

/// The messages actors exchange with their parent over one channel.
public enum Message: Sendable, Equatable {
  /// child -> parent, first thing after start: the connect-back.
  case started(pid: Int32, name: String)
  /// parent -> child: what to be and what to run.
  case spawnSpec(SpawnSpec)
  /// child -> parent: the actor's behaviour returned.
  case result(value: String?)
  /// child -> parent: the actor failed (its own error or its nursery's).
  case error(ErrorInfo)
  /// parent -> child: cancel yourself.
  case cancelRequest
  /// child -> parent: cancel is complete; carries errors gathered before it.
  case cancelAck(errors: [ErrorInfo])

  public var typeName: String {
    switch self {
    case .started: return "started"
    case .spawnSpec: return "spawnSpec"
    case .result: return "result"
    case .error: return "error"
    case .cancelRequest: return "cancel"
    case .cancelAck: return "cancelAck"
    }
  }

  public var json: JSONValue {
    switch self {
    case .started(let pid, let name): return ["type": "started", "pid": .int(Int64(pid)), "name": .string(name)]
    case .spawnSpec(let s): return ["type": "spawnSpec", "spec": s.json]
    case .result(let v): return ["type": "result", "value": .from(v)]
    case .error(let e): return ["type": "error", "error": e.json]
    case .cancelRequest: return ["type": "cancel"]
    case .cancelAck(let errs): return ["type": "cancelAck", "errors": .array(errs.map(\.json))]
    }
  }

  public struct DecodeError: Error, CustomStringConvertible, Sendable {
    public var description: String
  }

  public init(json v: JSONValue) throws(DecodeError) {
    guard let t = v["type"]?.string else { throw DecodeError(description: "message without a type") }
    switch t {
    case "started":
      guard let pid = v["pid"]?.int, let name = v["name"]?.string else {
        throw DecodeError(description: "started: missing pid or name")
      }
      self = .started(pid: Int32(truncatingIfNeeded: pid), name: name)
    case "spawnSpec":
      guard let s = v["spec"], let spec = SpawnSpec(json: s) else { throw DecodeError(description: "spawnSpec: bad spec") }
      self = .spawnSpec(spec)
    case "result": self = .result(value: v["value"]?.string)
    case "error":
      guard let e = v["error"], let info = ErrorInfo(json: e) else { throw DecodeError(description: "error: bad error") }
      self = .error(info)
    case "cancel": self = .cancelRequest
    case "cancelAck": self = .cancelAck(errors: (v["errors"]?.array ?? []).compactMap(ErrorInfo.init(json:)))
    default: throw DecodeError(description: "unknown message type \"\(t)\"")
    }
  }

  public func encoded() -> [UInt8] { FrameCodec.encode(Array(json.compact.utf8)) }

  public static func decode(payload: [UInt8]) throws(DecodeError) -> Message {
    let v: JSONValue
    // Trees travel in both directions: a spawn spec down (the actor's
    // subtree), errors up (every error gathered below). The receiver reads
    // one level of children and passes the deeper ones on as text
    // (ActorSpec's and ErrorInfo's WireChildren).
    do { v = try JSONParser.parse(bytes: payload, deferringNested: "children") } catch {
      throw DecodeError(description: "bad JSON: \(error)")
    }
    return try Message(json: v)
  }
}
