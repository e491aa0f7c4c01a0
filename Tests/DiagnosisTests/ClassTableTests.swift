import Diagnosis
import Testing

/// README's class table and docs/hang-classes.md say the same as HangClass.
@Suite(.timeLimit(.minutes(1)))
struct ClassTableTests {
  /// The first column of each row of README's class table ("| class | what it looks like ...").
  static func readmeClassNames() throws -> [String] {
    let lines = try StoredRun.text(StoredRun.packageRoot + "/README.md").split(separator: "\n", omittingEmptySubsequences: false)
    guard let start = lines.firstIndex(where: { $0.hasPrefix("| class | what it looks like") }) else {
      throw StoredRun.Missing(description: "README.md has no hang-class table")
    }
    var names: [String] = []
    for line in lines[(start + 2)...] {
      guard line.hasPrefix("|") else { break }
      let first = line.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
      names.append(first.trimmingCharacters(in: " `"))
    }
    return names
  }

  @Test func readmeTableListsExactlyTheClasses() throws {
    let names = try Self.readmeClassNames()
    #expect(names == HangClass.allCases.map(\.name))
    for n in names { #expect(HangClass(rawValue: n) != nil, "README names an unknown class: \(n)") }
  }

  @Test func docsTableGivesEachClassItsMeaningAndHint() throws {
    let docs = try StoredRun.text(StoredRun.packageRoot + "/docs/hang-classes.md")
    for c in HangClass.allCases {
      #expect(docs.contains("| `\(c.name)` | \(c.meaning) | \(c.hint) |"), "docs/hang-classes.md: \(c.name)")
    }
  }
}

extension Substring {
  func trimmingCharacters(in set: String) -> String {
    var s = self
    while let f = s.first, set.contains(f) { s.removeFirst() }
    while let l = s.last, set.contains(l) { s.removeLast() }
    return String(s)
  }
}
