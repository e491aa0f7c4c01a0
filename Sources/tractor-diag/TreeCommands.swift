import CommandLineOptions
import Diagnosis

/// `nested-multierrors`: tractor's test tree, built from the shape options.
struct NestedMultierrors: CLICommand {
  static var name: String { "nested-multierrors" }
  static let spec = CommandSpec(
    name: name,
    abstract: "Build tractor's test_nested_multierrors tree and diagnose its teardown.",
    discussion: "depth d gives d+2 levels below the root; depth 1, breadth 2 is 15 actors.",
    options: TreeShape.options + TreeOptions.options)

  var shape: TreeShape
  var options: TreeOptions

  init(_ a: ParsedArguments) throws(UsageError) {
    shape = try TreeShape(a)
    options = try TreeOptions(a)
  }

  func validate() throws(UsageError) {
    try shape.validate()
    try options.validate()
  }

  func run() { options.runAndReport(shape.scenario) }
}

/// `run SCENARIO`: the tree a scenario file describes.
struct RunScenario: CLICommand {
  static var name: String { "run" }
  static let spec = CommandSpec(
    name: name, abstract: "Build the actor tree a scenario file describes and diagnose its teardown.",
    options: TreeOptions.options,
    positionals: .one(name: "scenario", help: "A scenario JSON file (see Fixtures/scenarios and the README)."))

  var scenario: String
  var options: TreeOptions

  init(_ a: ParsedArguments) throws(UsageError) {
    scenario = a.positionals[0]
    options = try TreeOptions(a)
  }

  func validate() throws(UsageError) { try options.validate() }

  func run() { options.runAndReport(loadScenario(scenario)) }
}
