import ArgumentParser

struct Watch: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Run any command; if it outlives the timeout, diagnose and kill its whole process tree.")

  func run() throws {}
}
