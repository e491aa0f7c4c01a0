import MiniJSON

/// One Python frame: `function` is co_name, `qualname` co_qualname.
public struct PythonFrame: Sendable, Equatable {
  public var function: String
  public var qualname: String
  public var file: String
  public var line: Int

  public init(function: String, qualname: String, file: String, line: Int) {
    self.function = function
    self.qualname = qualname
    self.file = file
    self.line = line
  }

  public var json: JSONValue {
    .object([("function", .string(function)), ("qualname", .string(qualname)), ("file", .string(file)), ("line", .int(Int64(line)))])
  }
}

/// A thread with a Python thread state: its frames innermost first.
public struct PythonThread: Sendable {
  public var tid: Int32
  /// threading.Thread's name, when the process imported threading and the thread is in `threading._active`.
  public var name: String?
  public var frames: [PythonFrame]

  public var json: JSONValue {
    .object([("tid", .int(Int64(tid))), ("name", .from(name)), ("frames", .array(frames.map(\.json)))])
  }
}

/// Which event loop the process runs (found from its stacks).
public enum EventLoopKind: String, Sendable {
  case trio, asyncio
}

/// A trio task: its await chain (coroutine frames, innermost first) and its
/// child tasks (the tasks started in the nurseries it opened).
public struct PythonTask: Sendable {
  public var name: String
  public var frames: [PythonFrame]
  /// Some cancel scope between the task and the root is shielded.
  public var shielded: Bool
  /// cancel() was called on some cancel scope enclosing the task (a deadline that passed counts).
  public var cancelCalled: Bool
  public var children: [PythonTask]
  /// Set when the task waits in an Event's wait().
  public var waitingOn: PythonWait? = nil

  /// This task and all below it, depth first.
  public var flattened: [PythonTask] { [self] + children.flatMap(\.flattened) }

  public var json: JSONValue {
    .object([
      ("name", .string(name)), ("frames", .array(frames.map(\.json))), ("shielded", .bool(shielded)),
      ("cancelCalled", .bool(cancelCalled)), ("children", .array(children.map(\.json))),
      ("waitingOn", waitingOn?.json ?? .null),
    ])
  }
}

/// A frame holding, in a local variable, the object a task waits on.
public struct PythonHolder: Sendable {
  /// The task whose await chain holds it, or the thread whose stack does.
  public var task: String?
  public var tid: Int32?
  public var frame: PythonFrame
  public var variable: String

  public var json: JSONValue {
    .object([("task", .from(task)), ("tid", .from(tid)), ("frame", frame.json), ("variable", .string(variable))])
  }
}

/// What a task waits on when its await chain sits in an Event's wait(): the
/// frames elsewhere in the process that hold that Event (the ones that could set it).
public struct PythonWait: Sendable {
  /// "trio.Event", "asyncio.Event".
  public var kind: String
  public var heldBy: [PythonHolder]

  public var json: JSONValue { .object([("kind", .string(kind)), ("heldBy", .array(heldBy.map(\.json)))]) }
}

/// What came of reading one process.
public enum PythonStatus: String, Sendable {
  /// Threads (and tasks) read.
  case ok
  /// No CPython runtime in the process (no libpython, no `_PyRuntime`).
  case notPython = "not-python"
  /// CPython, but a version whose layout we do not know.
  case unsupportedVersion = "unsupported-version"
  /// process_vm_readv not permitted (ptrace_scope, another user).
  case denied
  /// The process exited.
  case gone
  /// Every attempt met memory that changed under us or did not map.
  case unreadable
}

/// The Python view of one process (`PythonStacks.capture(pid:)`).
public struct PythonSnapshot: Sendable {
  public var pid: Int32
  public var status: PythonStatus
  /// "3.11.2"; nil when not CPython.
  public var version: String?
  public var threads: [PythonThread]
  public var loop: EventLoopKind?
  /// Root tasks of the trio run (children nested); empty without a loop.
  public var tasks: [PythonTask]
  /// Why something is missing (partial reads, unknown version), for people.
  public var note: String?
  public var elapsedNs: UInt64
  /// process_vm_readv calls and whole-dump attempts it took.
  public var reads: Int
  public var attempts: Int

  public init(pid: Int32, status: PythonStatus, version: String? = nil, threads: [PythonThread] = [],
              loop: EventLoopKind? = nil, tasks: [PythonTask] = [], note: String? = nil, elapsedNs: UInt64 = 0,
              reads: Int = 0, attempts: Int = 0) {
    self.pid = pid
    self.status = status
    self.version = version
    self.threads = threads
    self.loop = loop
    self.tasks = tasks
    self.note = note
    self.elapsedNs = elapsedNs
    self.reads = reads
    self.attempts = attempts
  }

  public var isPython: Bool { status != .notPython && status != .gone }

  /// Every task, depth first.
  public var allTasks: [PythonTask] { tasks.flatMap(\.flattened) }

  /// `"python"` of a snapshot process: {"version", "status", "threads", "loop", "tasks", "note", "elapsedMs", "reads", "attempts"}.
  public var json: JSONValue {
    .object([
      ("version", .from(version)), ("status", .string(status.rawValue)),
      ("threads", .array(threads.map(\.json))), ("loop", .from(loop?.rawValue)),
      ("tasks", .array(tasks.map(\.json))), ("note", .from(note)),
      ("elapsedMs", .double(Double(elapsedNs / 1000) / 1000)), ("reads", .int(Int64(reads))),
      ("attempts", .int(Int64(attempts))),
    ])
  }
}
