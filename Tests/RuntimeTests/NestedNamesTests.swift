import ActorRuntime
import SystemCore
import Testing

/// `nested-multierrors` names its actors as tractor's test_nested_multierrors
/// does (Fixtures/python/tractor_nested.py); only a repeat gets `#N`.
@Suite(.timeLimit(.minutes(1)))
struct NestedNamesTests {
  @Test func depthOneIsNamedAsTractorNamesIt() {
    let s = Scenario.nestedMultierrors(depth: 1, breadth: 2)
    func names(_ a: ActorSpec) -> [String] { a.children.map(\.name) }
    #expect(names(s.root) == ["spawner_0", "spawner_1"])
    #expect(names(s.root.children[0]) == ["spawner_0_depth_1", "spawner_1_depth_1"])
    #expect(names(s.root.children[1]) == ["spawner_0_depth_1#2", "spawner_1_depth_1#2"])
    #expect(names(s.root.children[0].children[0]) == ["spawner_0_depth_1_errorer_0", "spawner_0_depth_1_errorer_1"])
    #expect(names(s.root.children[1].children[0]) == ["spawner_0_depth_1_errorer_0#2", "spawner_0_depth_1_errorer_1#2"])
  }

  @Test func depthTwoCountsDownAsTractorDoes() {
    let s = Scenario.nestedMultierrors(depth: 2, breadth: 2)
    let spawner0 = s.root.children[0]
    #expect(spawner0.children.map(\.name) == ["spawner_0_depth_2", "spawner_1_depth_2"])
    #expect(spawner0.children[0].children.map(\.name) == ["spawner_0_depth_1", "spawner_1_depth_1"])
    #expect(spawner0.children[1].children.map(\.name) == ["spawner_0_depth_1#2", "spawner_1_depth_1#2"])
    #expect(spawner0.children[0].children[0].children.first?.name == "spawner_0_depth_1_errorer_0")
  }

  @Test func depthZeroErrorersHangOffTheTopSpawners() {
    let s = Scenario.nestedMultierrors(depth: 0, breadth: 2)
    #expect(s.root.children[1].children.map(\.name) == ["spawner_1_errorer_0", "spawner_1_errorer_1"])
  }

  @Test func theFixtureFileIsTheGeneratedTree() throws {
    var parts = String(#filePath).split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    let path = parts.joined(separator: "/") + "/Fixtures/scenarios/nested-multierrors.json"
    let text = String(decoding: try #require(Syscalls.readFile(path)), as: UTF8.self)
    let fixture = try ScenarioParser.parse(text: text)
    let generated = Scenario.nestedMultierrors(depth: 1, breadth: 2)
    #expect(fixture.root.flatten().map(\.0.name) == generated.root.flatten().map(\.0.name))
  }
}
