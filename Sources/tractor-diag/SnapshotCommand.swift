import ArgumentParser

struct Snapshot: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Show what processes are blocked on and who waits for whom (any process tree).")

  func run() throws {}
}
