import ActorRuntime
import MiniJSON
import Testing

/// Trees cross a channel one level at a time: a message's nested children
/// stay JSON text that the receiver passes on without parsing it, and that
/// reads back as the same tree whenever it is asked for.
@Suite(.timeLimit(.minutes(1))) struct DeferredChildrenTests {
  @Test func nestedValuesOfTheKeyAreKeptAsTheirText() throws {
    let text = #"{"children":[{"n":1,"children":[{"n":2,"children":[]}]}],"other":{"children":[3]}}"#
    let v = try JSONParser.parse(bytes: Array(text.utf8), deferringNested: "children")
    // The first level parses; the level inside it is text, byte for byte.
    let first = try #require(v["children"]?.array?.first)
    #expect(first["n"] == .int(1))
    guard case .deferred(let t)? = first["children"] else {
      Issue.record("expected deferred text, got \(String(describing: first["children"]))")
      return
    }
    #expect(String(decoding: t.bytes, as: UTF8.self) == #"[{"n":2,"children":[]}]"#)
    #expect(try t.parse() == JSONParser.parse(#"[{"n":2,"children":[]}]"#))
    // The same key under another key is a first level too.
    #expect(v["other"]?["children"] == [3])
    // Printed compact, the whole text comes back; pretty, it reads as parsed.
    #expect(v.compact == text)
    #expect(try JSONParser.parse(v.pretty) == JSONParser.parse(text))
  }

  /// Deferred text is checked as the parser would check it.
  @Test(arguments: [
    #"{"children":[{"children":[1,]}]}"#, #"{"children":[{"children":["\x"]}]}"#,
    #"{"children":[{"children":[1e999]}]}"#, #"{"children":[{"children":[tru]}]}"#,
    #"{"children":[{"children":["#, #"{"children":[{"children":[{"a" 1}]}]}"#,
    "{\"children\":[{\"children\":" + String(repeating: "[", count: 300) + String(repeating: "]", count: 300) + "}]}",
  ])
  func badTextInsideIsStillRefused(text: String) {
    #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes: Array(text.utf8), deferringNested: "children") }
  }

  @Test func invalidUTF8InsideIsRefused() {
    let bytes = Array(#"{"children":[{"children":[""#.utf8) + [0xC3, 0x28] + Array(#""]}]}"#.utf8)
    #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes: bytes, deferringNested: "children") }
  }

  /// A spawn spec of a tree 4 levels deep: the child reads its own node and
  /// its children, and the spec it sends each child is the one its parent
  /// would have sent, byte for byte.
  @Test func aSpawnSpecIsPassedOnUnchanged() throws {
    var root = Scenario.nestedMultierrors(depth: 2, breadth: 2).root
    root.children[0].children[1].supervision.hardKillLadder = false
    root.children[0].children[1].children[0].settings.callsExit = false
    let spec = SpawnSpec(actor: root, runDir: "/tmp/x", backend: "forkserver", bounds: Bounds(), actorExecutable: "/a", forkServer: "s")
    let child = spec.forChild(root.children[0])
    var frame = Message.spawnSpec(child).encoded()
    let m = try Message.decode(payload: try #require(try FrameCodec.decode(&frame)))
    guard case .spawnSpec(let got) = m else {
      Issue.record("not a spawn spec: \(m)")
      return
    }
    #expect(got == child)
    #expect(got.actor.children == root.children[0].children)
    #expect(got.actor.children[1].children[0].settings.callsExit == false)
    for (i, c) in got.actor.children.enumerated() {
      #expect(Message.spawnSpec(got.forChild(c)).encoded() == Message.spawnSpec(child.forChild(root.children[0].children[i])).encoded())
    }
  }

  /// An error tree going up: each level boxes and gathers what it received
  /// and sends it on; the root reads the whole tree as it was raised.
  @Test func anErrorTreeArrivesWhole() throws {
    func leaf(_ n: String) -> ErrorInfo {
      ErrorInfo(type: "AssertionError", message: "raised by \(n)", actor: n, pid: 1, traceback: "tb \"\(n)\"\n")
    }
    func across(_ m: Message) throws -> Message {
      var f = m.encoded()
      return try Message.decode(payload: try #require(try FrameCodec.decode(&f)))
    }
    func received(_ m: Message) -> ErrorInfo? { if case .error(let e) = m { return e } else { return nil } }
    // Level 1 gathers two leaves; level 2 gathers two of those; the root gets level 2's.
    var level1: [ErrorInfo] = []
    var expected1: [ErrorInfo] = []
    for k in 0..<2 {
      let raw = [leaf("e\(k)0"), leaf("e\(k)1")]
      let got = try raw.map { try #require(received(try across(.error($0)))).boxed(by: $0.actor, pid: 2) }
      level1.append(try #require(ErrorInfo.gather(got, actor: "s\(k)", pid: 3)))
      expected1.append(try #require(ErrorInfo.gather(raw.map { $0.boxed(by: $0.actor, pid: 2) }, actor: "s\(k)", pid: 3)))
    }
    let got2 = try level1.map { try #require(received(try across(.error($0)))).boxed(by: $0.actor, pid: 4) }
    let top = try #require(ErrorInfo.gather(got2, actor: "root", pid: 5))
    let atRoot = try #require(received(try across(.error(top))))
    let expected = try #require(ErrorInfo.gather(expected1.map { $0.boxed(by: $0.actor, pid: 4) }, actor: "root", pid: 5))
    #expect(atRoot == expected)
    #expect(atRoot.walk().count == 7)
    #expect(atRoot.children[1].children[1].traceback == "tb \"e11\"\n")
    #expect(try across(.cancelAck(errors: [atRoot])) == .cancelAck(errors: [expected]))
  }

  /// What fuzz-frame checks, on mutations of a real spawn spec with
  /// grandchildren (deterministic): whatever decodes survives its own
  /// encoding unchanged, deferred text included.
  @Test func mutatedSpecsThatDecodeSurviveTheirEncoding() throws {
    let root = Scenario.nestedMultierrors(depth: 1, breadth: 2).root
    let spec = SpawnSpec(actor: root, runDir: "/r", backend: "fork", bounds: Bounds(), actorExecutable: "/a", forkServer: nil)
    var frame = Message.spawnSpec(spec).encoded()
    let payload = try #require(try FrameCodec.decode(&frame))
    let alphabet = Array(#"{}[]",:\ 0a-"é"#.utf8)
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
      seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(truncatingIfNeeded: seed >> 33)
    }
    var decoded = 0
    for _ in 0..<3000 {
      var p = payload
      for _ in 0..<(1 + next() % 3) {
        let at = next() % p.count
        switch next() % 3 {
        case 0: p[at] = alphabet[next() % alphabet.count]
        case 1: p.remove(at: at)
        default: p.insert(alphabet[next() % alphabet.count], at: at)
        }
      }
      guard let m = try? Message.decode(payload: p) else { continue }
      decoded += 1
      var again = m.encoded()
      let back = try Message.decode(payload: try #require(try FrameCodec.decode(&again)))
      #expect(back == m, "\(String(decoding: p, as: UTF8.self))")
    }
    #expect(decoded > 0)
  }
}
