import MiniJSON

/// A tree to build and, optionally, what should come of it.
public struct Scenario: Sendable, Equatable {
  public var name: String
  public var root: ActorSpec
  /// Expected outcome ("clean", "hang", "leak"); nil means clean.
  public var expectOutcome: String?
  /// Expected type of the error the root raises ("MultiError", "none", ...).
  public var expectRootErrorType: String?
  /// For nested-multierrors: the root's error must hold `breadth` entries.
  public var expectRootErrorCount: Int?
  /// The teardown ladder's bounds (tractor's by default).
  public var bounds = Bounds()
  /// Settings of the run as a whole (FaultInjection sets them).
  public var settings = RunSettings()

  public init(name: String, root: ActorSpec, expectOutcome: String? = nil, expectRootErrorType: String? = nil) {
    self.name = name
    self.root = root
    self.expectOutcome = expectOutcome
    self.expectRootErrorType = expectRootErrorType
  }

  /// tractor's `test_nested_multierrors` tree, named as tractor names it:
  /// the root spawns `spawner_{i}`; an actor with depth left spawns
  /// `spawner_{j}_depth_{d}`, one with none spawns `<its name>_errorer_{k}`;
  /// depth d gives d+2 levels below the root. tractor repeats names across
  /// branches (both spawners have a `spawner_0_depth_1`); here only a
  /// repeat gets a suffix, `#N` for its N-th use in spawn order
  /// (`spawner_0_depth_1#2`, `spawner_0_depth_1_errorer_0#2`), so actors
  /// match by name across backends and runs and the first use reads as
  /// tractor's.
  public static func nestedMultierrors(depth: Int, breadth: Int, delayMs: Int = 0) -> Scenario {
    var uses: [String: Int] = [:]
    func unique(_ tractorName: String) -> String {
      uses[tractorName, default: 0] += 1
      let n = uses[tractorName]!
      return n == 1 ? tractorName : "\(tractorName)#\(n)"
    }
    // `tractorName` is the name tractor gives this actor; its children's
    // names derive from it (tractor's `current_actor().name`), not from the suffix.
    func spawner(_ tractorName: String, depthLeft d: Int) -> ActorSpec {
      let name = unique(tractorName)
      if d == 0 {
        return ActorSpec(
          name: name, role: "spawner",
          children: (0..<breadth).map { k in
            let errorer = unique("\(tractorName)_errorer_\(k)")
            return ActorSpec(
              name: errorer, role: "errorer",
              behavior: .error(afterMs: delayMs, message: "AssertionError raised by \(errorer)"))
          })
      }
      return ActorSpec(
        name: name, role: "spawner",
        children: (0..<breadth).map { spawner("spawner_\($0)_depth_\(d)", depthLeft: d - 1) })
    }
    let root = ActorSpec(name: "root", role: "root", children: (0..<breadth).map { spawner("spawner_\($0)", depthLeft: depth) })
    var s = Scenario(name: "nested-multierrors", root: root, expectOutcome: "clean")
    s.expectRootErrorType = breadth > 1 ? "MultiError" : "RemoteActorError"
    s.expectRootErrorCount = breadth > 1 ? breadth : nil
    return s
  }
}

/// A scenario file problem, naming the JSON path where it is.
public struct ScenarioError: Error, CustomStringConvertible, Sendable {
  public var path: String
  public var message: String
  public var description: String { "\(path): \(message)" }

  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }
}

public enum ScenarioParser {
  public static let behaviorKinds = ["error", "sleep", "sleepForever", "ignoreCancel", "return", "crash", "none"]

  public static func parse(text: String) throws(ScenarioError) -> Scenario {
    let v: JSONValue
    do { v = try JSONParser.parse(text) } catch { throw ScenarioError(path: "$", message: "not valid JSON (\(error))") }
    return try parse(v)
  }

  public static func parse(_ v: JSONValue) throws(ScenarioError) -> Scenario {
    guard case .object(let pairs) = v else { throw ScenarioError(path: "$", message: "expected an object, found \(v.kindName)") }
    for (k, _) in pairs where !["name", "root", "expect", "description", "bounds"].contains(k) {
      throw ScenarioError(path: "$." + k, message: "unknown key (expected name, root, expect, bounds, description)")
    }
    let name = try string(v["name"], "$.name", optional: true) ?? "scenario"
    guard let r = v["root"] else { throw ScenarioError(path: "$.root", message: "missing") }
    var root = try node(r, path: "$.root", defaultRole: "root")
    root.role = "root"
    var s = Scenario(name: name, root: root)
    if let e = v["expect"] {
      switch e {
      case .string(let o): s.expectOutcome = try outcome(o, "$.expect")
      case .object:
        if let o = try string(e["outcome"], "$.expect.outcome", optional: true) { s.expectOutcome = try outcome(o, "$.expect.outcome") }
        s.expectRootErrorType = try string(e["rootError"], "$.expect.rootError", optional: true)
      default: throw ScenarioError(path: "$.expect", message: "expected a string or an object, found \(e.kindName)")
      }
    }
    if let b = v["bounds"] {
      guard case .object(let bp) = b else { throw ScenarioError(path: "$.bounds", message: "expected an object, found \(b.kindName)") }
      let keys = Bounds.keys
      for (k, val) in bp {
        guard keys.contains(k) else {
          throw ScenarioError(path: "$.bounds." + k, message: "unknown bound (expected \(keys.joined(separator: ", ")))")
        }
        _ = try int(val, "$.bounds." + k, default: nil, min: 1, max: 600_000)
      }
      s.bounds = Bounds(json: b)
    }
    var seen: Set<String> = []
    for (n, _) in root.flatten() where !seen.insert(n.name).inserted {
      throw ScenarioError(path: "$.root", message: "actor name \"\(n.name)\" is used twice")
    }
    if root.count > 1024 { throw ScenarioError(path: "$.root", message: "\(root.count) actors; at most 1024") }
    return s
  }

  private static func outcome(_ o: String, _ path: String) throws(ScenarioError) -> String {
    guard ["clean", "hang", "leak"].contains(o) else {
      throw ScenarioError(path: path, message: "unknown outcome \"\(o)\" (expected clean, hang or leak)")
    }
    return o
  }

  private static func string(_ v: JSONValue?, _ path: String, optional: Bool = false) throws(ScenarioError) -> String? {
    guard let v else {
      if optional { return nil }
      throw ScenarioError(path: path, message: "missing")
    }
    guard let s = v.string else { throw ScenarioError(path: path, message: "expected a string, found \(v.kindName)") }
    return s
  }

  private static func int(_ v: JSONValue?, _ path: String, default d: Int?, min lo: Int = 0, max hi: Int = 86_400_000)
    throws(ScenarioError) -> Int
  {
    guard let v else {
      if let d { return d }
      throw ScenarioError(path: path, message: "missing")
    }
    guard let i = v.int else { throw ScenarioError(path: path, message: "expected an integer, found \(v.kindName)") }
    guard i >= lo && i <= hi else { throw ScenarioError(path: path, message: "\(i) is outside \(lo)...\(hi)") }
    return Int(i)
  }

  // Built once: every node of every spawn spec is checked against them
  // (about 10,000 nodes are decoded across a depth-7 tree).
  static let knownKeys: Set<String> = ["name", "role", "behavior", "children", "faults"]
  static let knownWireKeys = knownKeys.union(["settings", "supervision"])

  /// One node. `wire`: the form a spawn spec carries (with settings); a
  /// scenario file cannot set them, only name faults.
  public static func node(_ v: JSONValue, path: String, defaultRole: String, wire: Bool = false) throws(ScenarioError) -> ActorSpec {
    guard case .object(let pairs) = v else { throw ScenarioError(path: path, message: "expected an object, found \(v.kindName)") }
    let known = wire ? knownWireKeys : knownKeys
    for (k, _) in pairs where !known.contains(k) {
      throw ScenarioError(path: path + "." + k, message: "unknown key (expected name, role, behavior, children, faults)")
    }
    guard let name = try string(v["name"], path + ".name") else { throw ScenarioError(path: path + ".name", message: "missing") }
    if name.isEmpty || name.utf8.count > 200 || name.contains("/") {
      throw ScenarioError(path: path + ".name", message: "must be 1-200 characters without '/'")
    }
    var children: [ActorSpec] = []
    var deferred: JSONText? = nil
    if let c = v["children"] {
      if wire, case .deferred(let t) = c {
        // A spawn spec's grandchildren, passed on unparsed (ActorSpec).
        guard t.bytes.first == UInt8(ascii: "[") else {
          throw ScenarioError(path: path + ".children", message: "expected an array, found \(c.kindName)")
        }
        deferred = t
      } else {
        guard let arr = c.array else { throw ScenarioError(path: path + ".children", message: "expected an array, found \(c.kindName)") }
        for (i, cv) in arr.enumerated() { children.append(try node(cv, path: "\(path).children[\(i)]", defaultRole: "actor", wire: wire)) }
      }
    }
    var behavior = Behavior.none
    if let b = v["behavior"] { behavior = try self.behavior(b, path: path + ".behavior") }
    var faults: [String] = []
    if let f = v["faults"] {
      guard let arr = f.array else { throw ScenarioError(path: path + ".faults", message: "expected an array, found \(f.kindName)") }
      for (i, fv) in arr.enumerated() {
        guard let s = fv.string else { throw ScenarioError(path: "\(path).faults[\(i)]", message: "expected a string") }
        faults.append(s)
      }
    }
    let hasChildren = deferred.map { !$0.bytes.elementsEqual("[]".utf8) } ?? !children.isEmpty
    let role =
      try string(v["role"], path + ".role", optional: true)
      ?? (defaultRole == "root" ? "root" : (hasChildren ? "spawner" : "leaf"))
    var spec = ActorSpec(name: name, role: role, behavior: behavior, children: children, faults: faults)
    if let deferred { spec.wireChildren = WireChildren([], text: deferred) }
    if wire {
      spec.settings = ActorSettings(json: v["settings"])
      spec.supervision = ChildSupervision(json: v["supervision"])
    }
    return spec
  }

  static func behavior(_ v: JSONValue, path: String) throws(ScenarioError) -> Behavior {
    guard case .object = v else { throw ScenarioError(path: path, message: "expected an object, found \(v.kindName)") }
    guard let kind = try string(v["kind"], path + ".kind") else { throw ScenarioError(path: path + ".kind", message: "missing") }
    switch kind {
    case "none": return .none
    case "error":
      return .error(
        afterMs: try int(v["afterMs"], path + ".afterMs", default: 0),
        message: try string(v["message"], path + ".message", optional: true) ?? "error")
    case "sleep": return .sleep(ms: try int(v["ms"], path + ".ms", default: nil))
    case "sleepForever": return .sleepForever
    case "ignoreCancel": return .ignoreCancel
    case "return":
      guard let val = v["value"] else { return .returnValue("null") }
      return .returnValue(val.string ?? val.compact)
    case "crash":
      let after = try int(v["afterMs"], path + ".afterMs", default: 0)
      var code: Int32? = nil
      var sig: Int32? = nil
      if let x = v["exitCode"] { code = Int32(try int(x, path + ".exitCode", default: nil, min: 0, max: 255)) }
      if let x = v["signal"] { sig = Int32(try int(x, path + ".signal", default: nil, min: 1, max: 64)) }
      if code != nil && sig != nil { throw ScenarioError(path: path, message: "crash takes exitCode or signal, not both") }
      return .crash(afterMs: after, exitCode: code ?? (sig == nil ? 1 : nil), signal: sig)
    default:
      throw ScenarioError(
        path: path + ".kind", message: "unknown behaviour \"\(kind)\" (one of \(behaviorKinds.joined(separator: ", ")))")
    }
  }
}
