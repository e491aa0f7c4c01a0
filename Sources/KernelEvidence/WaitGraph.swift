/// Who waits on whom: wait-for edges and their shape (maximal chains,
/// cycles, terminals). The one graph type: kernel snapshots derive it from
/// blocked syscalls, run evidence records it, and verdicts build one from
/// probe and kernel edges together.
public struct WaitGraph: Sendable {
  public var edges: [WaitEdge]
  /// Maximal wait chains, root-most first; the last element is where the
  /// chain ends (a terminal, or the node where it runs into a cycle).
  public var chains: [[Int32]]
  /// Each cycle once, starting at its smallest pid.
  public var cycles: [[Int32]]
  /// Nodes that wait on nothing in the graph.
  public var terminals: [Int32]

  /// Chains enumerated at most: a dense graph must not explode, and no
  /// reader shows more than a handful.
  public static let maxChains = 256

  /// The shape of `edges` over `nodes` (edges to pids outside `nodes` still
  /// count). Chains start at nodes that wait on something and that nobody
  /// waits on; with `startAnywhere`, a graph with no such node (cycles
  /// only) starts from every node that waits.
  public init(nodes: [Int32], edges: [WaitEdge], startAnywhere: Bool = false) {
    self.edges = edges
    let out = WaitGraph.adjacency(edges)
    let waitedOn = Set(edges.map(\.to))
    terminals = nodes.filter { (out[$0] ?? []).isEmpty }
    cycles = WaitGraph.findCycles(nodes: nodes + out.keys.sorted().filter { !nodes.contains($0) }, out: out)
    var starts = out.keys.sorted().filter { !waitedOn.contains($0) }
    if starts.isEmpty && startAnywhere { starts = out.keys.sorted() }
    chains = WaitGraph.paths(from: starts, out: out)
  }

  /// The shape a reader is shown: chains from `root` first when it waits on
  /// something, then from every other node that waits and that nobody waits
  /// on; a chain whose nodes all lie on a longer chain, in order, is not
  /// repeated, and a chain that lies inside one cycle is that cycle (printed
  /// once, as the cycle). A chain that runs into a cycle keeps the way in.
  public init(nodes: [Int32], edges: [WaitEdge], root: Int32?) {
    self.init(nodes: nodes, edges: edges)
    let out = WaitGraph.adjacency(edges)
    let waitedOn = Set(edges.map(\.to))
    var starts: [Int32] = []
    if let r = root, !(out[r] ?? []).isEmpty { starts.append(r) }
    starts += out.keys.sorted().filter { !waitedOn.contains($0) && !starts.contains($0) }
    chains = WaitGraph.summarized(WaitGraph.paths(from: starts, out: out), cycles: cycles)
  }

  /// Chains without repeats: each chain that is not an ordered
  /// sub-sequence of a longer one, nor wholly inside one cycle, nor the
  /// same way into a cycle as one already kept.
  public static func summarized(_ chains: [[Int32]], cycles: [[Int32]]) -> [[Int32]] {
    var out: [[Int32]] = []
    // A chain that runs into a cycle is "the way in + that cycle": entering
    // the same cycle the same way at another of its nodes is the same chain.
    var intoCycle: [[Int32]: [Int32]] = [:]
    for c in chains where c.count > 1 {
      if cycles.contains(where: { Set(c).isSubset(of: Set($0)) }) { continue }
      if chains.contains(where: { $0.count > c.count && lies(c, on: $0) }) { continue }
      if out.contains(c) { continue }
      if let cyc = cycles.first(where: { $0.contains(c.last!) }),
        let i = c.firstIndex(where: { cyc.contains($0) }), Set(c[i...]).isSubset(of: Set(cyc))
      {
        let way = Array(c[..<i]) + [cyc.min()!]
        if intoCycle[way] != nil { continue }
        intoCycle[way] = c
      }
      out.append(c)
    }
    return out
  }

  /// True when every node of `c` is on `longer`, in the same order.
  public static func lies(_ c: [Int32], on longer: [Int32]) -> Bool {
    var i = longer.startIndex
    for x in c {
      guard let j = longer[i...].firstIndex(of: x) else { return false }
      i = j + 1
    }
    return true
  }

  /// A graph as recorded (evidence.json): its shape is kept, not recomputed.
  public init(edges: [WaitEdge], chains: [[Int32]], cycles: [[Int32]], terminals: [Int32]) {
    self.edges = edges
    self.chains = chains
    self.cycles = cycles
    self.terminals = terminals
  }

  public static let empty = WaitGraph(edges: [], chains: [], cycles: [], terminals: [])

  /// The edges leaving `pid`, in recorded order.
  public func edges(from pid: Int32) -> [WaitEdge] { edges.filter { $0.from == pid } }

  /// Successors of each node, sorted, each once.
  static func adjacency(_ edges: [WaitEdge]) -> [Int32: [Int32]] {
    var out: [Int32: [Int32]] = [:]
    for e in edges where !(out[e.from]?.contains(e.to) ?? false) { out[e.from, default: []].append(e.to) }
    for k in out.keys { out[k]?.sort() }
    return out
  }

  /// Maximal paths from each start; a path that reaches a node already on it
  /// ends there (it runs into a cycle). At most `maxChains`, each once.
  static func paths(from starts: [Int32], out: [Int32: [Int32]]) -> [[Int32]] {
    var chains: [[Int32]] = []
    func walk(_ path: [Int32]) {
      if chains.count >= maxChains { return }
      let next = out[path.last!] ?? []
      if next.isEmpty {
        if !chains.contains(path) { chains.append(path) }
        return
      }
      for n in next {
        if path.contains(n) {
          if !chains.contains(path) { chains.append(path) }
        } else {
          walk(path + [n])
        }
      }
    }
    for s in starts { walk([s]) }
    return chains
  }

  /// Tarjan SCCs; each non-trivial SCC yields one shortest cycle through its smallest pid.
  static func findCycles(nodes: [Int32], out: [Int32: [Int32]]) -> [[Int32]] {
    var indexOf: [Int32: Int] = [:]
    var low: [Int32: Int] = [:]
    var stack: [Int32] = []
    var onStack = Set<Int32>()
    var counter = 0
    var sccs: [[Int32]] = []
    func strong(_ v: Int32) {
      indexOf[v] = counter
      low[v] = counter
      counter += 1
      stack.append(v)
      onStack.insert(v)
      for w in out[v] ?? [] {
        if indexOf[w] == nil {
          strong(w)
          low[v] = min(low[v]!, low[w]!)
        } else if onStack.contains(w) {
          low[v] = min(low[v]!, indexOf[w]!)
        }
      }
      if low[v] == indexOf[v] {
        var comp: [Int32] = []
        while let w = stack.popLast() {
          onStack.remove(w)
          comp.append(w)
          if w == v { break }
        }
        if comp.count > 1 { sccs.append(comp) }
      }
    }
    for v in nodes where indexOf[v] == nil { strong(v) }

    var cycles: [[Int32]] = []
    for comp in sccs {
      let members = Set(comp)
      let start = comp.min()!
      // BFS from start back to start inside the SCC.
      var prev: [Int32: Int32] = [:]
      var queue: [Int32] = [start]
      var head = 0
      var closing: Int32?
      while head < queue.count, closing == nil {
        let v = queue[head]
        head += 1
        for w in out[v] ?? [] where members.contains(w) {
          if w == start {
            closing = v
            break
          }
          if prev[w] == nil {
            prev[w] = v
            queue.append(w)
          }
        }
      }
      guard var v = closing else { continue }
      var cyc: [Int32] = [v]
      while v != start, let pv = prev[v] {
        cyc.append(pv)
        v = pv
      }
      cycles.append(cyc.reversed())
    }
    return cycles.sorted { $0[0] < $1[0] }
  }
}
