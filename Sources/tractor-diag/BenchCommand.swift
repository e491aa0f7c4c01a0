import ArgumentParser

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Measure spawn, probe, teardown and snapshot costs; prints medians and ratios (make bench).")

  func run() throws {}
}
