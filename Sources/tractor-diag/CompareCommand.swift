import ArgumentParser

struct Compare: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Run the same tree under several backends and show where they diverge.")

  func run() throws {}
}
