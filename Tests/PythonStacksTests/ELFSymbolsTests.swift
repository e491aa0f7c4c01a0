import Glibc
import SystemCore
import Testing

@testable import PythonStacks

/// The interpreter's symbols found through `.gnu.hash` are the ones a scan
/// of the whole dynamic symbol table finds, in every CPython build here.
@Suite(.timeLimit(.minutes(1)))
struct ELFSymbolsTests {
  /// Debian's python3.11 and every pyenv 3.11, 3.12 and 3.13 build's libpython.
  static let files: [String] = {
    var out: [String] = []
    if let p = Interpreters.system311 { out.append(p) }
    let dir = "\(Interpreters.home)/.pyenv/versions"
    for name in Syscalls.listDirectory(dir).sorted() {
      guard let minor = ["3.11", "3.12", "3.13"].first(where: { name.hasPrefix($0 + ".") }) else { continue }
      let lib = "\(dir)/\(name)/lib/libpython\(minor).so.1.0"
      if access(lib, R_OK) == 0 { out.append(lib) }
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
