/// One frame of a native stack.
public struct StackFrame: Sendable, Equatable {
  /// Absolute program counter in the target (return address for frames > 0).
  public var pc: UInt64
  /// Function name (demangled and shortened for Swift / C++), nil when unknown.
  public var symbol: String?
  /// Offset of `pc` from the start of `symbol` (0 when the symbol is unknown).
  public var offset: UInt64
  /// Module file name (basename), e.g. "libc.so.6", or "[vdso]".
  public var module: String?
  /// file:line when known (only with `.llvmSymbolizer` and debug info).
  public var location: String?
  /// Full path of the module as mapped in the target (/proc/PID/maps).
  public var modulePath: String?
  /// Link-time address of `pc` inside the module (what llvm-symbolizer,
  /// addr2line and `nm` use); nil when the module could not be read.
  public var moduleOffset: UInt64?
  /// The symbol as found in the symbol table (mangled), when it differs.
  public var rawSymbol: String?

  public init(
    pc: UInt64, symbol: String? = nil, offset: UInt64 = 0, module: String? = nil,
    location: String? = nil, modulePath: String? = nil, moduleOffset: UInt64? = nil,
    rawSymbol: String? = nil
  ) {
    self.pc = pc
    self.symbol = symbol
    self.offset = offset
    self.module = module
    self.location = location
    self.modulePath = modulePath
    self.moduleOffset = moduleOffset
    self.rawSymbol = rawSymbol
  }
}

/// The stack of one thread (one /proc/PID/task entry).
public struct ThreadStack: Sendable, Equatable {
  public var tid: Int32
  /// /proc/PID/task/TID/comm.
  public var name: String
  /// Innermost frame first. Empty when `note` explains why.
  public var frames: [StackFrame]
  /// Per-thread problem (not permitted, exited, timed out, ...).
  public var note: String?
  /// Time this thread was held stopped (PTRACE_INTERRUPT .. PTRACE_DETACH).
  public var stallNs: UInt64
  /// Scheduler state letter from /proc/PID/task/TID/stat before attaching
  /// ("S", "R", "D", "T", "t", "Z", ...).
  public var state: String
  /// /proc/PID/task/TID/wchan before attaching (kernel function it sleeps in).
  public var wchan: String?
  /// /proc/PID/task/TID/syscall before attaching ("0 0x3 ..." = read(3, ...),
  /// "running", or nil when unreadable).
  public var syscall: String?

  public init(
    tid: Int32, name: String, frames: [StackFrame] = [], note: String? = nil, stallNs: UInt64 = 0,
    state: String = "?", wchan: String? = nil, syscall: String? = nil
  ) {
    self.tid = tid
    self.name = name
    self.frames = frames
    self.note = note
    self.stallNs = stallNs
    self.state = state
    self.wchan = wchan
    self.syscall = syscall
  }
}

/// How frames are named after the target has been detached.
public enum Symbolizer: Sendable, Equatable {
  /// In-process: /proc/PID/maps + ELF .symtab/.dynsym read by us, Swift
  /// names demangled with swift_demangle. Fast (ms), no file:line.
  case fast
  /// `.fast`, then one llvm-symbolizer process for all frames: better names
  /// (DWARF) and file:line when debug info exists. Slower (100 ms .. s).
  case llvmSymbolizer
}

/// Native stacks of all threads of one process.
public struct ProcessStacks: Sendable, Equatable {
  public var pid: Int32
  public var threads: [ThreadStack]
  /// Whole-process problem, e.g. "no such process",
  /// "ptrace not permitted: /proc-only evidence",
  /// "libunwind not available: ...".
  public var note: String?
  /// Total wall time of `capture` (attach + unwind + detach + symbolize).
  public var elapsedNs: UInt64
  /// Part of `elapsedNs` spent attaching/unwinding/detaching.
  public var unwindNs: UInt64
  /// Part of `elapsedNs` spent naming frames (after every detach).
  public var symbolizeNs: UInt64

  public init(
    pid: Int32, threads: [ThreadStack] = [], note: String? = nil, elapsedNs: UInt64 = 0,
    unwindNs: UInt64 = 0, symbolizeNs: UInt64 = 0
  ) {
    self.pid = pid
    self.threads = threads
    self.note = note
    self.elapsedNs = elapsedNs
    self.unwindNs = unwindNs
    self.symbolizeNs = symbolizeNs
  }

  /// Largest per-thread stall.
  public var maxStallNs: UInt64 { threads.map(\.stallNs).max() ?? 0 }
}
