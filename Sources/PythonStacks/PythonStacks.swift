import Glibc
import SystemCore

/// Python stacks and trio task trees of running CPython processes, read from
/// outside with process_vm_readv: no ptrace, no stop, nothing injected.
///
///     let snap = PythonStacks.capture(pid: pid)   // never throws; status/note say what happened
///
/// Parsed ELF files are shared by every capture of the run (ELFSymbols.cached).
public enum PythonStacks {
  public static func capture(pid: Int32) -> PythonSnapshot { PythonStackSession().capture(pid: pid) }
  public static func capture(pids: [Int32]) -> [Int32: PythonSnapshot] { PythonStackSession().capture(pids: pids) }
}

/// Captures processes one after another with one retry policy.
public final class PythonStackSession {
  /// Whole-dump attempts per process: a running target may move objects while we
  /// read; each retry starts from fresh memory.
  public var maxAttempts = 3
  /// Thread names cost a walk of sys.modules and threading._active (about half the reads).
  public var threadNames = true

  public init() {}

  private func elf(_ key: String, _ paths: String...) -> ELFSymbols? {
    ELFSymbols.cached(key) { paths.lazy.compactMap { ELFSymbols.read(path: $0) }.first }
  }

  /// Where the interpreter lives in `pid`: the libpython or executable mapping with a
  /// `_PyRuntime`, its load address and its symbols.
  private func locate(pid: Int32, maps: [FileMapping]) -> (path: String, base: UInt64, elf: ELFSymbols)? {
    var candidates: [String] = []
    for m in maps where m.path.baseName.hasPrefix("libpython3") && !candidates.contains(m.path) { candidates.append(m.path) }
    if let exe = maps.first?.path, !candidates.contains(exe) { candidates.append(exe) }
    for path in candidates {
      guard let first = maps.filter({ $0.path == path }).min(by: { $0.start < $1.start }) else { continue }
      let base = first.start
      // Parsed once per binary (dev:inode) per run; opened through the process's
      // own root (a container, a replaced file), else by its path.
      guard let e = elf(first.file, "/proc/\(pid)/root" + path, path) else { continue }
      if e.pyRuntimeSection != nil || e.symbols["_PyRuntime"] != nil { return (path, base, e) }
    }
    return nil
  }

  /// `maps`: the text of /proc/PID/maps when the caller has read it already
  /// (one read per process for every reader of a snapshot).
  public func capture(pid: Int32, maps: [UInt8]? = nil) -> PythonSnapshot {
    let t0 = Syscalls.monotonicNs()
    var snap = read(pid: pid, mapsText: maps)
    snap.elapsedNs = Syscalls.monotonicNs() &- t0
    return snap
  }

  private func read(pid: Int32, mapsText: [UInt8]?) -> PythonSnapshot {
    guard let maps = mapsText.map(FileMapping.parse) ?? FileMapping.read(pid: pid) else {
      return PythonSnapshot(
        pid: pid, status: Syscalls.exists(pid) ? .denied : .gone,
        note: "cannot read /proc/\(pid)/maps (another user, or ptrace not permitted: needs a descendant or CAP_SYS_PTRACE)")
    }
    guard let (path, base, e) = locate(pid: pid, maps: maps) else {
      // A python executable without a runtime section or symbol: Python 2 or 3 before 3.7.
      if let exe = maps.first?.path.baseName, exe.hasPrefix("python") || maps.contains(where: { $0.path.baseName.hasPrefix("libpython") }) {
        return PythonSnapshot(pid: pid, status: .unsupportedVersion, note: "\(exe) has no _PyRuntime (a Python older than 3.7?): layouts known for 3.11-3.14 only")
      }
      return PythonSnapshot(pid: pid, status: .notPython)
    }
    let slide = base &- e.loadBias
    func at(_ name: String) -> UInt64? { e.symbols[name].map { $0 &+ slide } }
    guard let runtime = (e.pyRuntimeSection ?? e.symbols["_PyRuntime"]).map({ $0 &+ slide }) else {
      return PythonSnapshot(pid: pid, status: .notPython)
    }
    let mem = RemoteMemory(pid: pid)
    // Version: the debug offsets' (3.13+), else Py_Version, else the file name.
    var hex: UInt64? = nil
    var debugWords: [UInt64] = []
    do {
      let head = try mem.bytes(runtime, PythonLayout.debugOffsetsBytes)
      if Array(head[0..<8]) == Array("xdebugpy".utf8) {
        debugWords = (0..<(head.count / 8)).map { ELFSymbols.le64(head, $0 * 8) }
        hex = debugWords[1]
      } else if let v = at("Py_Version") {
        hex = UInt64(try mem.u32(v))
      }
    } catch {
      switch error {
      case .gone: return PythonSnapshot(pid: pid, status: .gone, note: "exited while being read")
      case .denied:
        return PythonSnapshot(pid: pid, status: .denied, note: "process_vm_readv not permitted (needs ptrace permission: a descendant, or CAP_SYS_PTRACE)")
      default: return PythonSnapshot(pid: pid, status: .unreadable, note: "cannot read _PyRuntime in \(path)")
      }
    }
    var major = 0, minor = 0, version: String? = nil
    if let h = hex {
      major = Int((h >> 24) & 0xff)
      minor = Int((h >> 16) & 0xff)
      version = "\(major).\(minor).\((h >> 8) & 0xff)"
    } else if let r = path.baseName.firstRange(of: "python3.") {
      let digits = path.baseName[r.upperBound...].prefix { $0.isNumber }
      major = 3
      minor = Int(digits) ?? 0
      version = "3.\(minor)"
    }
    let layout: PythonLayout?
    switch (major, minor) {
    case (3, 11): layout = .v311
    case (3, 12): layout = .v312
    case (3, 13), (3, 14): layout = PythonLayout.fromDebugOffsets(debugWords, minor: minor)
    default: layout = nil
    }
    // Free-threaded builds (3.13t/3.14t) have a larger object header: every offset differs.
    if debugWords.count > 2 && debugWords[2] != 0 {
      return PythonSnapshot(
        pid: pid, status: .unsupportedVersion, version: version.map { $0 + "t" },
        note: "free-threaded CPython \(version ?? "")t: only GIL builds are read")
    }
    guard let layout, let code = at("PyCode_Type"), let uni = at("PyUnicode_Type") else {
      return PythonSnapshot(
        pid: pid, status: .unsupportedVersion, version: version,
        note: "CPython \(version ?? "of unknown version") in \(path.baseName): layouts known for 3.11-3.14 only")
    }
    let reader = PythonReader(
      mem: mem, layout: layout, runtime: runtime, codeType: code, unicodeType: uni,
      noneObject: at("_Py_NoneStruct") ?? 0, trueObject: at("_Py_TrueStruct") ?? 0,
      hashSecretAddress: at("_Py_HashSecret"))
    var last = ""
    for attempt in 1...max(1, maxAttempts) {
      mem.reset()
      do {
        var snap = try dump(reader, lastAttempt: attempt == max(1, maxAttempts))
        snap.pid = pid
        snap.version = version
        snap.attempts = attempt
        snap.reads = mem.syscalls
        if minor >= 14 { snap.note = [snap.note, "3.14 read from its debug offsets, untested here"].compactMap { $0 }.joined(separator: "; ") }
        return snap
      } catch {
        switch error {
        case .gone: return PythonSnapshot(pid: pid, status: .gone, version: version, note: "exited while being read")
        case .denied: return PythonSnapshot(pid: pid, status: .denied, version: version, note: "process_vm_readv not permitted")
        case .unmapped(let a): last = "unmapped address 0x\(String(a, radix: 16))"
        case .inconsistent(let why): last = why
        }
      }
    }
    return PythonSnapshot(
      pid: pid, status: .unreadable, version: version,
      note: "memory changed under \(maxAttempts) attempts (last: \(last))", reads: mem.syscalls, attempts: maxAttempts)
  }

  /// One whole attempt: threads with frames and names, then the trio tree. On the
  /// last attempt a failure in the tasks keeps the threads (with a note).
  private func dump(_ r: PythonReader, lastAttempt: Bool) throws(ReadFailure) -> PythonSnapshot {
    var threads: [PythonThread] = []
    var raw: [PythonReader.RawThread] = []
    var interps: [UInt64] = []
    for interp in try r.interpreters() {
      interps.append(interp)
      // The list is newest first; oldest first puts MainThread on top (as py-spy does).
      for t in try r.threads(of: interp).reversed() {
        raw.append(t)
        threads.append(PythonThread(tid: t.tid, name: nil, frames: t.frames.map(PythonStackSession.frame)))
      }
    }
    var notes: [String] = []
    // Thread names are a nicety: a failure to read them does not fail the dump.
    if threadNames, let interp = interps.first {
      do {
        let names = try ThreadNames(reader: r).names(interp: interp, frames: raw.flatMap(\.frames))
        for i in threads.indices { threads[i].name = names[raw[i].threadID] }
      } catch {
        notes.append("thread names not read")
      }
    }
    var snap = PythonSnapshot(pid: 0, status: .ok, threads: threads)
    // Tasks are retried with the whole dump, but on the last attempt a failure
    // there keeps the threads, with a note.
    func tasks(_ what: String, _ read: () throws(ReadFailure) -> [PythonTask]?) throws(ReadFailure) {
      do {
        if let t = try read() { snap.tasks = t } else { notes.append("\(what) tasks not read on 3.\(r.layout.minor) (untested layout)") }
      } catch {
        switch error {
        case .unmapped where lastAttempt, .inconsistent where lastAttempt:
          notes.append("\(what) tasks not read (memory changed while reading)")
        default: throw error
        }
      }
    }
    if let run = raw.lazy.flatMap(\.frames).first(where: { TrioTasks.isRunFrame($0.code) }) {
      snap.loop = .trio
      try tasks("trio") { () throws(ReadFailure) -> [PythonTask]? in
        try TrioTasks(reader: r).tasks(runFrame: run, threads: raw)
      }
    } else if let interp = interps.first,
      raw.contains(where: { $0.frames.contains { $0.code.file.hasSuffix("asyncio/base_events.py") && $0.code.name == "run_forever" } })
    {
      snap.loop = .asyncio
      try tasks("asyncio") { () throws(ReadFailure) -> [PythonTask]? in try AsyncioTasks(reader: r).tasks(interp: interp, threads: raw) }
    }
    snap.note = notes.isEmpty ? nil : notes.joined(separator: "; ")
    return snap
  }

  static func frame(_ f: PythonReader.RawFrame) -> PythonFrame {
    PythonFrame(function: f.code.name, qualname: f.code.qualname, file: f.code.file, line: f.line)
  }
}

extension PythonStackSession {
  /// Every pid in turn (one ELF parse per interpreter binary for all of them).
  public func capture(pids: [Int32]) -> [Int32: PythonSnapshot] {
    var out: [Int32: PythonSnapshot] = [:]
    for p in pids where out[p] == nil { out[p] = capture(pid: p) }
    return out
  }
}
