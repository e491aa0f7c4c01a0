import SystemCore

/// What a foreign process is, as far as its command line tells.
public enum ProcessRole: String, Sendable, CaseIterable {
  /// A tractor actor: its process title `_subactor[name@id]`, or tractor's trio
  /// backend child `python -m tractor._child --uid ('name', 'uuid') ...`.
  case tractorActor = "tractor-actor"
  /// multiprocessing's resource tracker (`-c from multiprocessing.resource_tracker import main;main(N)`):
  /// it reads a pipe every process of the tree holds and waits for all of them to close it.
  case resourceTracker = "resource-tracker"
  /// multiprocessing's fork server (`-c from multiprocessing.forkserver import main; main(...)`).
  case forkServer = "fork-server"
  /// A child the fork server forked: it keeps the server's command line (a zombie has
  /// none), so only its parent tells it apart (see `ProcessNaming.identify(argv:comm:parentArgv:)`).
  case forkServerChild = "fork-server-child"
  /// A multiprocessing spawn child (`-c from multiprocessing.spawn import spawn_main; spawn_main(...)`).
  case spawnChild = "spawn-child"
  /// A Python interpreter running a script (`python foo.py`) or module (`python -m foo`).
  case python
  /// Anything else: named by its program.
  case program
}

/// A display name and a role for one process.
public struct ProcessIdentity: Sendable, Equatable {
  public var name: String
  public var role: ProcessRole

  public init(name: String, role: ProcessRole) {
    self.name = name
    self.role = role
  }
}

/// Names foreign processes from /proc/PID/cmdline, because `comm` is cut at 15
/// characters and is "python" for every Python process: a tractor tree of 15
/// actors reads as 15 "python"s. Pure functions over the argv.
public enum ProcessNaming {
  /// tractor (development branch, with setproctitle) titles each actor
  /// `_subactor[<name>@<uuid prefix>]`; the title replaces argv, so it is the
  /// whole of /proc/PID/cmdline, sometimes padded with spaces.
  static let titlePrefix = "_subactor["

  public static func identify(argv: [String], comm: String, parentArgv: [String]? = nil) -> ProcessIdentity {
    if let name = titleName(argv) { return ProcessIdentity(name: name, role: .tractorActor) }
    guard let first = argv.first, !first.isEmpty else {
      // A zombie's cmdline is empty; under a fork server it can only be one of its children.
      if let parent = parentArgv, identify(argv: parent, comm: "").role == .forkServer {
        return ProcessIdentity(name: "fork server child", role: .forkServerChild)
      }
      return ProcessIdentity(name: comm, role: .program)
    }
    let program = basename(first)
    guard isPython(program) else { return ProcessIdentity(name: program, role: .program) }
    switch pythonTarget(Array(argv.dropFirst())) {
    case .code(let code):
      if code.includes("multiprocessing.resource_tracker") {
        return ProcessIdentity(name: "resource tracker", role: .resourceTracker)
      }
      if code.includes("multiprocessing.forkserver") {
        // Forked children of the server keep its argv: only the parent tells them apart.
        if parentArgv == argv { return ProcessIdentity(name: "fork server child", role: .forkServerChild) }
        return ProcessIdentity(name: "fork server", role: .forkServer)
      }
      if code.includes("spawn_main") { return ProcessIdentity(name: "spawn child", role: .spawnChild) }
      return ProcessIdentity(name: "\(program) -c", role: .python)
    case .module(let module, let rest):
      if module == "tractor._child", let uid = option("--uid", in: rest), let name = firstQuoted(uid) {
        return ProcessIdentity(name: name, role: .tractorActor)
      }
      return ProcessIdentity(name: module, role: .python)
    case .script(let path):
      return ProcessIdentity(name: basename(path), role: .python)
    case .interactive:
      return ProcessIdentity(name: program, role: .python)
    }
  }

  /// The actor name in a `_subactor[name@id]` title: up to the last '@' (names may hold one).
  static func titleName(_ argv: [String]) -> String? {
    guard let t = argv.first?.trimmingSpaces, t.hasPrefix(titlePrefix), t.hasSuffix("]") else { return nil }
    let inner = t.dropFirst(titlePrefix.count).dropLast()
    let name = inner.lastIndex(of: "@").map { inner[..<$0] } ?? inner
    return name.isEmpty ? nil : String(name)
  }

  enum PythonTarget: Equatable {
    case code(String)
    case module(String, rest: [String])
    case script(String)
    case interactive
  }

  /// What a python command line runs: the first of -c CODE, -m MODULE, or a
  /// script path, after the interpreter's own options. Options cluster the way
  /// CPython parses them: `-Bc CODE`, `-Wignore`, `-W ignore`, `-X dev`, `-mpytest`.
  static func pythonTarget(_ args: [String]) -> PythonTarget {
    var i = 0
    while i < args.count {
      let a = args[i]
      if a == "-" || !a.hasPrefix("-") { return a == "-" ? .interactive : .script(a) }
      if a.hasPrefix("--") {
        i += a == "--check-hash-based-pycs" ? 2 : 1
        continue
      }
      var flags = a.dropFirst()
      var skipNext = false
      while let f = flags.first {
        flags = flags.dropFirst()
        guard "cmWX".contains(f) else { continue }
        // The option's value is the rest of this word, or else the next word.
        let value: String? = flags.isEmpty ? (i + 1 < args.count ? args[i + 1] : nil) : String(flags)
        let after = flags.isEmpty ? i + 2 : i + 1
        switch f {
        case "c": return value.map { .code($0) } ?? .interactive
        case "m": return value.map { .module($0, rest: Array(args.dropFirst(after))) } ?? .interactive
        default: skipNext = flags.isEmpty
        }
        break
      }
      i += skipNext ? 2 : 1
    }
    return .interactive
  }

  /// The value after `flag` (`--uid X` or `--uid=X`).
  static func option(_ flag: String, in args: [String]) -> String? {
    for (i, a) in args.enumerated() {
      if a == flag, i + 1 < args.count { return args[i + 1] }
      if a.hasPrefix(flag + "=") { return String(a.dropFirst(flag.count + 1)) }
    }
    return nil
  }

  /// The first quoted string of a Python tuple literal: `('name', 'uuid')` -> name.
  static func firstQuoted(_ s: String) -> String? {
    guard let open = s.firstIndex(where: { $0 == "'" || $0 == "\"" }) else { return nil }
    let quote = s[open]
    var out = ""
    var escaped = false
    for c in s[s.index(after: open)...] {
      if escaped {
        out.append(c)
        escaped = false
      } else if c == "\\" {
        escaped = true
      } else if c == quote {
        return out.isEmpty ? nil : out
      } else {
        out.append(c)
      }
    }
    return nil
  }

  /// python, python3, python3.11, python3.13t, pypy3 (a venv's bin/python is a symlink
  /// whose argv[0] keeps the link's name).
  static func isPython(_ program: String) -> Bool {
    for prefix in ["python", "pypy"] where program.hasPrefix(prefix) {
      return program.dropFirst(prefix.count).allSatisfy { $0.isNumber || $0 == "." || $0 == "t" || $0 == "d" || $0 == "m" }
    }
    return false
  }

  static func basename(_ path: String) -> String {
    let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
    return trimmed.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? trimmed
  }
}

extension String {
  fileprivate var trimmingSpaces: String {
    var s = Substring(self)
    while s.last == " " { s = s.dropLast() }
    return String(s)
  }
}

extension ProcessSnapshot {
  /// Name and role from this process's argv alone (a fork server child reads as the server).
  public var identity: ProcessIdentity { ProcessNaming.identify(argv: cmdline, comm: comm) }
}

extension KernelSnapshot {
  /// Name and role of `pid`, using its parent's argv when the parent is in the snapshot
  /// (a fork server's children keep the server's argv).
  public func identity(of pid: Int32) -> ProcessIdentity? {
    guard let p = process(pid) else { return nil }
    return ProcessNaming.identify(argv: p.cmdline, comm: p.comm, parentArgv: process(p.ppid)?.cmdline)
  }
}
