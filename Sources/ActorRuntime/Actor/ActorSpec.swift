import MiniJSON

/// What an actor does beside (or instead of) supervising children.
public enum Behavior: Sendable, Equatable {
  case none
  case error(afterMs: Int, message: String)
  case sleep(ms: Int)
  case sleepForever
  case ignoreCancel
  case returnValue(String)
  case crash(afterMs: Int, exitCode: Int32?, signal: Int32?)

  public var json: JSONValue {
    switch self {
    case .none: return ["kind": "none"]
    case .error(let a, let m): return ["kind": "error", "afterMs": .int(Int64(a)), "message": .string(m)]
    case .sleep(let ms): return ["kind": "sleep", "ms": .int(Int64(ms))]
    case .sleepForever: return ["kind": "sleepForever"]
    case .ignoreCancel: return ["kind": "ignoreCancel"]
    case .returnValue(let v): return ["kind": "return", "value": .string(v)]
    case .crash(let a, let c, let s):
      var o: [(String, JSONValue)] = [("kind", "crash"), ("afterMs", .int(Int64(a)))]
      if let c { o.append(("exitCode", .int(Int64(c)))) }
      if let s { o.append(("signal", .int(Int64(s)))) }
      return .object(o)
    }
  }

  /// Whether the process is meant to die without reaching EXIT.
  public var diesOnPurpose: Bool { if case .crash = self { return true }; return false }
}

/// The teardown ladder's bounds (tractor's values by default), in ms.
public struct Bounds: Sendable, Equatable {
  public var bootMs = 5000  // connect-back after start
  public var cancelAckMs = 500  // cancel request -> ack
  public var exitWaitMs = 3000  // nursery-wide: wait for a cancelled child's exit
  public var graceMs = 1600  // SIGTERM -> SIGKILL
  public var peersMs = 3000  // actor main finally: wait for peers to disconnect
  public var lingerMs = 3000  // after reporting, wait for the parent's cancel request

  public init() {}

  /// The scenario file's names for the bounds, as `json` writes them.
  public static let keys = ["bootMs", "cancelAckMs", "exitWaitMs", "graceMs", "peersMs", "lingerMs"]

  public var json: JSONValue {
    [
      "bootMs": .int(Int64(bootMs)), "cancelAckMs": .int(Int64(cancelAckMs)), "exitWaitMs": .int(Int64(exitWaitMs)),
      "graceMs": .int(Int64(graceMs)), "peersMs": .int(Int64(peersMs)),
      "lingerMs": .int(Int64(lingerMs)),
    ]
  }

  public init(json v: JSONValue?) {
    self.init()
    guard let v else { return }
    if let x = v["bootMs"]?.int { bootMs = Int(x) }
    if let x = v["cancelAckMs"]?.int { cancelAckMs = Int(x) }
    if let x = v["exitWaitMs"]?.int { exitWaitMs = Int(x) }
    if let x = v["graceMs"]?.int { graceMs = Int(x) }
    if let x = v["peersMs"]?.int { peersMs = Int(x) }
    if let x = v["lingerMs"]?.int { lingerMs = Int(x) }
  }
}

/// One node of the actor tree: a name, a role, a behaviour, its children.
public struct ActorSpec: Sendable, Equatable {
  public var name: String
  public var role: String  // "root", "spawner", "errorer", "leaf"
  public var behavior: Behavior
  /// The children. A spec decoded from a spawn spec message holds its
  /// children's own children as their wire text (WireChildren): this parses
  /// them when asked for, which the actor never does (it forwards the text
  /// to the child it spawns).
  public var children: [ActorSpec] {
    get { wireChildren.value(ActorSpec.parseChildren) }
    set { wireChildren.set(newValue) }
  }
  var wireChildren: WireChildren<ActorSpec>
  /// Fault names as the scenario asked for them: a record only. The runtime
  /// reads `settings` and `supervision`, which FaultInjection derives from
  /// these.
  public var faults: [String]
  /// How this actor runs.
  public var settings = ActorSettings()
  /// How its parent starts and supervises it.
  public var supervision = ChildSupervision()

  public init(name: String, role: String, behavior: Behavior = .none, children: [ActorSpec] = [], faults: [String] = []) {
    self.name = name
    self.role = role
    self.behavior = behavior
    self.wireChildren = WireChildren(children)
    self.faults = faults
  }

  /// Equal nodes have equal fields and equal children, however they are held.
  public static func == (a: ActorSpec, b: ActorSpec) -> Bool {
    a.name == b.name && a.role == b.role && a.behavior == b.behavior && a.faults == b.faults && a.settings == b.settings
      && a.supervision == b.supervision
      && a.wireChildren.equals(b.wireChildren, ActorSpec.parseChildren)
  }

  /// Children from their deferred wire text; none if it does not parse
  /// (the child that would have received it fails on it instead).
  static func parseChildren(_ t: JSONText) -> [ActorSpec] {
    guard let v = try? t.parse(), let items = v.array else { return [] }
    var out: [ActorSpec] = []
    for (i, item) in items.enumerated() {
      guard let c = try? ScenarioParser.node(item, path: "$.children[\(i)]", defaultRole: "actor", wire: true) else { return [] }
      out.append(c)
    }
    return out
  }

  /// The scenario form (run.json): no settings.
  public var json: JSONValue {
    [
      "name": .string(name), "role": .string(role), "behavior": behavior.json,
      "children": .array(children.map(\.json)), "faults": .array(faults.map { .string($0) }),
    ]
  }

  /// The form sent to a child over IPC: the settings of every node
  /// (non-default ones only) instead of fault names, which no actor reads.
  /// Settings and supervision only when they differ from the defaults (the
  /// reader takes a missing one as the default): the spec of a depth-7 root
  /// carries 1023 nodes, most of them default.
  public var wireJSON: JSONValue {
    var o: [(String, JSONValue)] = [
      ("name", .string(name)), ("role", .string(role)), ("behavior", behavior.json),
      ("children", wireChildren.json(\.wireJSON)),
    ]
    if settings != ActorSettings() { o.append(("settings", settings.json)) }
    if supervision != ChildSupervision() { o.append(("supervision", supervision.json)) }
    return .object(o)
  }

  public var count: Int { 1 + children.reduce(0) { $0 + $1.count } }

  /// Every node, depth first, with its parent's name.
  public func flatten(parent: String? = nil) -> [(ActorSpec, String?)] {
    [(self, parent)] + children.flatMap { $0.flatten(parent: name) }
  }
}

/// Everything a child needs to become an actor, sent after it connects back.
public struct SpawnSpec: Sendable, Equatable {
  public var actor: ActorSpec
  public var runDir: String
  public var backend: String
  public var bounds: Bounds
  public var actorExecutable: String
  public var forkServer: String?  // abstract socket name of the fork server

  public init(actor: ActorSpec, runDir: String, backend: String, bounds: Bounds, actorExecutable: String, forkServer: String?) {
    self.actor = actor
    self.runDir = runDir
    self.backend = backend
    self.bounds = bounds
    self.actorExecutable = actorExecutable
    self.forkServer = forkServer
  }

  public var json: JSONValue {
    [
      "actor": actor.wireJSON, "runDir": .string(runDir), "backend": .string(backend), "bounds": bounds.json,
      "actorExecutable": .string(actorExecutable), "forkServer": .from(forkServer),
    ]
  }

  public init?(json v: JSONValue) {
    guard let a = v["actor"], let actor = try? ScenarioParser.node(a, path: "$", defaultRole: "actor", wire: true),
      let runDir = v["runDir"]?.string, let backend = v["backend"]?.string, let exe = v["actorExecutable"]?.string
    else { return nil }
    self.init(
      actor: actor, runDir: runDir, backend: backend, bounds: Bounds(json: v["bounds"]), actorExecutable: exe,
      forkServer: v["forkServer"]?.string)
  }

  /// The same context for a child node.
  public func forChild(_ child: ActorSpec) -> SpawnSpec {
    var s = self
    s.actor = child
    return s
  }
}
