import KernelEvidence

/// A process as compared across backends: not its pid, its shape (the
/// name and role its command line gives, ProcessNaming), so that tractor's
/// `spawner_0` under trio meets the same actor under another backend, and
/// a multiprocessing "spawn child" reads as what it is.
public struct ProcessShape: Sendable, Hashable, CustomStringConvertible {
  public var name: String
  public var role: ProcessRole

  public init(name: String, role: ProcessRole) {
    self.name = name
    self.role = role
  }

  public var description: String { "\(name) [\(role.rawValue)]" }
}

/// A process-level event of a watched run, seen in its samples.
public struct ProcessEvent: Sendable, Equatable {
  public enum Kind: String, Sendable {
    case appeared, exited
  }

  public var kind: Kind
  public var shape: ProcessShape
  public var pid: Int32
  /// The shape of its parent in the tree; nil for the command (or an
  /// orphan whose parent had already gone).
  public var parent: ProcessShape?
  /// ms since the run started (at the sample that saw it).
  public var ms: Double

  /// "+ spawner_0" / "- spawner_0".
  public var text: String { (kind == .appeared ? "+ " : "- ") + shape.name }
}

/// The process events of one watched run, from its samples: a process
/// appears in the first sample that holds it and exits in the first that
/// holds it no more or shows it a zombie. Events between two samples are
/// only as precise as the sample period (compare --watch samples every 20 ms).
public enum ProcessEvents {
  public static func from(_ samples: [LightSample], startNs: UInt64) -> [ProcessEvent] {
    var out: [ProcessEvent] = []
    var known: [Int32: (shape: ProcessShape, parent: ProcessShape?)] = [:]
    var exited = Set<Int32>()
    for s in samples.sorted(by: { $0.t < $1.t }) {
      let ms = Double(s.t &- startNs) / 1e6
      var present = Set<Int32>()
      // Parents first, so that a child's parent shape is known.
      for p in s.processes {
        present.insert(p.pid)
        if known[p.pid] == nil {
          known[p.pid] = (ProcessShape(name: p.name, role: p.role), nil)
        }
      }
      for p in s.processes where known[p.pid]?.parent == nil {
        let parent = known[p.ppid]?.shape
        known[p.pid]?.parent = parent
      }
      for p in s.processes where !exited.contains(p.pid) {
        guard let k = known[p.pid] else { continue }
        if !out.contains(where: { $0.pid == p.pid && $0.kind == .appeared }) {
          out.append(ProcessEvent(kind: .appeared, shape: k.shape, pid: p.pid, parent: k.parent, ms: ms))
        }
        if p.isZombie {
          exited.insert(p.pid)
          out.append(ProcessEvent(kind: .exited, shape: k.shape, pid: p.pid, parent: k.parent, ms: ms))
        }
      }
      for (pid, k) in known.sorted(by: { $0.key < $1.key }) where !present.contains(pid) && !exited.contains(pid) {
        exited.insert(pid)
        out.append(ProcessEvent(kind: .exited, shape: k.shape, pid: pid, parent: k.parent, ms: ms))
      }
    }
    return out
  }

  /// Events split into streams, one per parent shape (the command's own
  /// under ""), each in time order: siblings started concurrently may be
  /// seen in either order, but what one parent starts, and in what order
  /// its children end, is that parent's story.
  public static func streams(_ events: [ProcessEvent]) -> [String: [ProcessEvent]] {
    var out: [String: [ProcessEvent]] = [:]
    for e in events { out[e.parent?.description ?? "", default: []].append(e) }
    return out
  }
}
