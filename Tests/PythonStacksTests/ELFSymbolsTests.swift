import Testing

@testable import PythonStacks

/// The interpreter's symbols found through `.gnu.hash` are the ones a scan
/// of the whole dynamic symbol table finds, in every CPython build here.
@Suite(.timeLimit(.minutes(1)))
struct ELFSymbolsTests {
  static let files: [String] = {
    var out: [String] = []
    if let p = Interpreters.system311 { out.append(p) }
    for v in ["3.11", "3.12", "3.13"] {
      let dir = "\(Interpreters.home)/.pyenv/versions"
      for name in ["\(v).7", "\(v).1", "\(v).0"] where Interpreters.executable("\(dir)/\(name)/bin/python\(v)") != nil {
        out.append("\(dir)/\(name)/lib/libpython\(v).so.1.0")
      }
    }
    return out
  }()

  @Test(.enabled(if: !files.isEmpty, "no CPython 3.11-3.13 build found (/usr/bin/python3.11, ~/.pyenv/versions)"))
  func hashTableAgreesWithAScan() throws {
    for path in Self.files {
      let hashed = try #require(ELFSymbols.read(path: path), "\(path) unreadable")
      let scanned = try #require(ELFSymbols.read(path: path, hashTable: false))
      #expect(hashed.symbols == scanned.symbols, "\(path)")
      #expect(hashed.symbols["_PyRuntime"] != nil && hashed.symbols["PyCode_Type"] != nil, "\(path): \(hashed.symbols)")
      #expect(hashed.symbols.count >= 8, "\(path): \(hashed.symbols.keys.sorted())")
    }
    print("ELFSymbols: hash lookup == scan in \(Self.files.joined(separator: ", "))")
  }
}
