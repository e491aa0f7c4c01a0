import CUnwind
import Glibc
import Supervision
import SystemCore

/// One ELF file opened with cu_elf_open (mmap + sorted function symbols).
/// Immutable after init, so lookups from several threads are safe; closed
/// when the last capture using it lets go.
final class ElfFile: @unchecked Sendable {
  let elf: OpaquePointer
  init(_ elf: OpaquePointer) { self.elf = elf }
  deinit { cu_elf_close(elf) }
}

/// Process-wide cache of opened ELF files, keyed by the file's identity
/// (device, inode, size, mtime from stat(2)), so repeated captures (and the
/// many processes of one tree sharing libpython/libc) index each file once.
/// Bounded: beyond `capacity` entries the least recently used is dropped.
final class ElfCache: @unchecked Sendable {
  struct Key: Hashable {
    var dev: UInt64
    var ino: UInt64
    var size: Int64
    var mtimeSec: Int
    var mtimeNsec: Int
  }
  static let shared = ElfCache()
  static let capacity = 64

  // Heap-allocated: a pthread mutex must not move.
  private let lock: UnsafeMutablePointer<pthread_mutex_t> = {
    let p = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    p.initialize(to: pthread_mutex_t())
    pthread_mutex_init(p, nil)
    return p
  }()
  private var entries: [Key: (file: ElfFile, used: UInt64)] = [:]
  private var clock: UInt64 = 0

  private init() {}

  /// The indexed ELF at `path` (opening it on a miss), nil when unreadable.
  func open(_ path: String) -> ElfFile? {
    guard let st = Syscalls.status(path), st.isRegular else { return nil }
    let key = Key(
      dev: st.device, ino: st.inode, size: Int64(st.size), mtimeSec: st.modifiedSec, mtimeNsec: st.modifiedNsec)
    // Opened under the lock: the capture threads of one snapshot want the same
    // files (libc, python) at the same moment, and opening one twice (mmap +
    // sorting every symbol) cost more than the wait.
    pthread_mutex_lock(lock)
    defer { pthread_mutex_unlock(lock) }
    clock += 1
    if let hit = entries[key] {
      entries[key] = (hit.file, clock)
      return hit.file
    }
    var err: Int32 = 0
    guard let e = cu_elf_open(path, &err) else { return nil }
    let file = ElfFile(e)
    if entries.count >= ElfCache.capacity,
      let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key
    {
      entries[oldest] = nil
    }
    entries[key] = (file, clock)
    return file
  }
}

/// Frame naming, done after every thread is detached.
enum Symbolication {
  /// One mapped module's ELF file (from ElfCache), looked up once per capture.
  final class Module {
    let path: String       // as in /proc/PID/maps
    let name: String       // its basename, as frames show it
    let openPath: String?  // the path we could open (for llvm-symbolizer)
    let file: ElfFile?
    var elf: OpaquePointer? { file?.elf }
    init(path: String, openPath: String?, file: ElfFile?) {
      self.path = path
      self.name = Symbolication.basename(path)
      self.openPath = openPath
      self.file = file
    }
  }

  static func resolve(
    pid: Int32, threads: inout [ThreadStack], raw: [[UInt64]], symbolizer: Symbolizer, maps: [ProcFiles.Mapping]
  ) {
    guard raw.contains(where: { !$0.isEmpty }) else { return }
    let maps = maps.sorted { $0.start < $1.start }
    var modules: [String: Module] = [:]

    func mapping(for pc: UInt64) -> ProcFiles.Mapping? {
      var lo = 0
      var hi = maps.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if maps[mid].start <= pc { lo = mid + 1 } else { hi = mid }
      }
      guard lo > 0, pc < maps[lo - 1].end else { return nil }
      return maps[lo - 1]
    }

    func module(for m: ProcFiles.Mapping) -> Module {
      if let mod = modules[m.path] { return mod }
      var mod = Module(path: m.path, openPath: nil, file: nil)
      if m.path.hasPrefix("/") {
        // Same file seen from the target: its own path, its root (other
        // mount namespace), or the map_files link (deleted files).
        var candidates: [String] = []
        let deleted = m.path.hasSuffix(" (deleted)")
        if !deleted { candidates.append(m.path) }
        candidates.append("/proc/\(pid)/root\(m.path)")
        candidates.append(
          "/proc/\(pid)/map_files/\(String(m.start, radix: 16))-\(String(m.end, radix: 16))")
        for c in candidates {
          if let f = ElfCache.shared.open(c) {
            mod = Module(path: m.path, openPath: c, file: f)
            break
          }
        }
      }
      modules[m.path] = mod
      return mod
    }

    for t in threads.indices {
      var frames: [StackFrame] = []
      for (i, pc) in raw[t].enumerated() {
        var f = StackFrame(pc: pc)
        // Return addresses point after the call: look up pc-1 so a call that
        // ends a function is not attributed to the next one.
        let lookupPC = i > 0 && pc > 0 ? pc - 1 : pc
        if let m = mapping(for: lookupPC) {
          let mod = module(for: m)
          f.modulePath = m.path
          f.module = mod.name
          var vaddr: UInt64 = 0
          if let elf = mod.elf, cu_elf_fileoff_to_vaddr(elf, lookupPC - m.start + m.offset, &vaddr) != 0 {
            f.moduleOffset = vaddr + (pc - lookupPC)
            var symAddr: UInt64 = 0
            if let name = cu_elf_lookup(elf, vaddr, &symAddr) {
              let rawName = String(cString: name)
              let pretty = Demangle.pretty(rawName)
              f.symbol = pretty
              if pretty != rawName { f.rawSymbol = rawName }
              f.offset = vaddr + (pc - lookupPC) - symAddr
            }
          }
        }
        frames.append(f)
      }
      threads[t].frames = frames
    }

    if symbolizer == .llvmSymbolizer {
      LLVMSymbolizer.refine(threads: &threads, openPaths: modules.mapValues { $0.openPath })
    }
  }

  static func basename(_ path: String) -> String {
    if path.hasPrefix("[") { return path }
    var p = Substring(path)
    if p.hasSuffix(" (deleted)") { p = p.dropLast(" (deleted)".count) }
    if let slash = p.lastIndex(of: "/") { return String(p[p.index(after: slash)...]) }
    return String(p)
  }
}

/// Demangling (swift_demangle / __cxa_demangle via dlsym) and shortening.
public enum Demangle {
  /// Demangled and shortened name, or `name` unchanged when not mangled.
  /// Swift: generic `where` clauses and specialization argument lists are
  /// cut, e.g. "generic specialization <Swift.Int> of Foo.bar<A>(A) -> ()"
  /// becomes "specialized Foo.bar<A>(A) -> ()".
  public static func pretty(_ name: String) -> String {
    guard let p = cu_demangle(name) else { return name }
    defer { cu_free(p) }
    let full = String(cString: p)
    return name.hasPrefix("_Z") ? full : shortenSwift(full)
  }

  static func shortenSwift(_ s: String) -> String {
    var out = s
    for prefix in ["generic specialization ", "function signature specialization "] {
      if out.hasPrefix(prefix), let ofRange = rangeAfterBalanced(out, from: prefix.count) {
        out = "specialized " + out[ofRange]
      }
    }
    out = removeWhereClauses(out)
    if out.count > 240 { out = String(out.prefix(237)) + "..." }
    return out
  }

  /// For "prefix <...> of REST" returns the range of REST.
  private static func rangeAfterBalanced(_ s: String, from: Int) -> Range<String.Index>? {
    var i = s.index(s.startIndex, offsetBy: from)
    guard i < s.endIndex, s[i] == "<" else { return nil }
    var depth = 0
    while i < s.endIndex {
      let c = s[i]
      if c == "<" { depth += 1 }
      if c == ">" {
        depth -= 1
        if depth == 0 { break }
      }
      i = s.index(after: i)
    }
    guard i < s.endIndex else { return nil }
    let rest = s[s.index(after: i)...]
    guard rest.hasPrefix(" of ") else { return nil }
    return rest.index(rest.startIndex, offsetBy: 4)..<s.endIndex
  }

  /// Drops " where A: P, ..." up to the '>' closing its generic list.
  private static func removeWhereClauses(_ s: String) -> String {
    var out = ""
    var chars = Array(s)
    var i = 0
    var depthStack: [Bool] = []  // per '<': are we skipping a where clause?
    var skipping = false
    let whereWord = Array(" where ")
    while i < chars.count {
      let c = chars[i]
      if c == "<" {
        depthStack.append(skipping)
        if !skipping { out.append(c) }
        i += 1
        continue
      }
      if c == ">" && !(i > 0 && chars[i - 1] == "-") {
        let wasSkipping = depthStack.popLast() ?? false
        skipping = wasSkipping
        if !skipping { out.append(c) }
        i += 1
        continue
      }
      if !skipping && !depthStack.isEmpty && i + whereWord.count <= chars.count
        && Array(chars[i..<(i + whereWord.count)]) == whereWord
      {
        skipping = true
        i += whereWord.count
        continue
      }
      if !skipping { out.append(c) }
      i += 1
    }
    chars.removeAll()
    return out
  }
}

/// Optional second pass: one llvm-symbolizer process for every frame.
enum LLVMSymbolizer {
  static let timeoutMs = 15000

  static func path() -> String? {
    var candidates = ["/opt/swift/usr/bin/llvm-symbolizer", "/usr/bin/llvm-symbolizer"]
    if let env = getenv("PATH") {
      for dir in String(cString: env).split(separator: ":") {
        candidates.append("\(dir)/llvm-symbolizer")
      }
    }
    return candidates.first { Syscalls.isExecutable($0) }
  }

  static func refine(threads: inout [ThreadStack], openPaths: [String: String?]) {
    guard let tool = path() else {
      appendNote(&threads, "llvm-symbolizer not found")
      return
    }
    // Unique queries "MODULE 0xADDR" (pc-1 for return addresses).
    struct Key: Hashable {
      var path: String
      var addr: UInt64
    }
    var keys: [Key] = []
    var index: [Key: Int] = [:]
    var frameKey: [[Int?]] = []
    for t in threads {
      var row: [Int?] = []
      for (i, f) in t.frames.enumerated() {
        guard let mp = f.modulePath, let open = openPaths[mp] ?? nil, let off = f.moduleOffset else {
          row.append(nil)
          continue
        }
        let k = Key(path: open, addr: i > 0 && off > 0 ? off - 1 : off)
        if let at = index[k] {
          row.append(at)
        } else {
          index[k] = keys.count
          row.append(keys.count)
          keys.append(k)
        }
      }
      frameKey.append(row)
    }
    guard !keys.isEmpty else { return }
    var input = ""
    for k in keys { input += "\"\(k.path)\" 0x\(String(k.addr, radix: 16))\n" }

    let args = [tool, "--inlining", "--functions=linkage", "--demangle"]
    let run: FilterProcess.Output
    do {
      run = try FilterProcess.run(executable: tool, arguments: args, input: Array(input.utf8), timeoutMs: timeoutMs)
    } catch {
      appendNote(&threads, "llvm-symbolizer failed: \(Errno(code: error.errno).description)")
      return
    }
    guard !run.timedOut else {
      appendNote(&threads, "llvm-symbolizer failed: timed out")
      return
    }
    // Output: per query, pairs "function\nfile:line:col\n" (innermost inlined
    // first), then an empty line.
    let text = String(decoding: run.output, as: UTF8.self)
    var answers: [(symbol: String?, location: String?)] = []
    var block: [Substring] = []
    func flush() {
      var sym: String? = nil
      var loc: String? = nil
      var j = 0
      while j + 1 < block.count {
        let fn = block[j]
        let l = block[j + 1]
        if fn != "??" { sym = String(fn) }  // outermost (physical) function wins
        if loc == nil && !l.hasPrefix("??") { loc = String(l) }  // innermost line
        j += 2
      }
      answers.append((sym, loc))
      block.removeAll()
    }
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.isEmpty {
        if !block.isEmpty { flush() }
      } else {
        block.append(line)
      }
    }
    if !block.isEmpty { flush() }
    guard answers.count == keys.count else {
      appendNote(&threads, "llvm-symbolizer output not understood (\(answers.count)/\(keys.count))")
      return
    }
    for t in threads.indices {
      for i in threads[t].frames.indices {
        guard let k = frameKey[t][i] else { continue }
        let a = answers[k]
        if let s = a.symbol {
          let pretty = Demangle.pretty(s)
          if pretty != threads[t].frames[i].symbol {
            threads[t].frames[i].rawSymbol = threads[t].frames[i].rawSymbol ?? threads[t].frames[i].symbol
            threads[t].frames[i].symbol = pretty
          }
        }
        if let l = a.location {
          threads[t].frames[i].location = l.hasSuffix(":0") ? String(l.dropLast(2)) : l
        }
      }
    }
  }

  static func appendNote(_ threads: inout [ThreadStack], _ s: String) {
    if let i = threads.indices.first(where: { !threads[$0].frames.isEmpty }) {
      threads[i].note = threads[i].note.map { "\($0); \(s)" } ?? s
    }
  }
}
