import Diagnosis
import KernelEvidence
import MiniJSON
import Reports
import Testing

/// `--format dot` of verdicts from stored runs, checked by parsing the DOT
/// (no graphviz needed): what is highlighted, and how.
@Suite(.timeLimit(.minutes(1)))
struct VerdictDotTests {
  struct Statement {
    var from: String
    var to: String?  // nil: a node
    var attrs: [String: String]
  }

  enum ParseError: Error { case bad(String) }

  /// The node and edge statements of the DOT our writer produces (one
  /// statement a line); anything else but the graph's own lines is an error.
  static func parse(_ dot: String) throws -> [Statement] {
    let lines = dot.split(separator: "\n").map(String.init)
    guard lines.first?.hasPrefix("digraph ") == true, lines.first?.hasSuffix("{") == true, lines.last == "}" else {
      throw ParseError.bad("not one digraph")
    }
    var out: [Statement] = []
    for l in lines.dropFirst().dropLast() {
      var s = Substring(l.drop(while: { $0 == " " }))
      guard s.hasSuffix(";") else { throw ParseError.bad("no ';': \(l)") }
      s = s.dropLast()
      func id() throws -> String {
        if s.first == "\"" {
          s = s.dropFirst()
          var r = ""
          while let c = s.first, c != "\"" {
            if c == "\\" {
              s = s.dropFirst()
              r.append(s.first == "n" ? "\n" : (s.first ?? " "))
            } else {
              r.append(c)
            }
            s = s.dropFirst()
          }
          guard s.first == "\"" else { throw ParseError.bad("open quote: \(l)") }
          s = s.dropFirst()
          return r
        }
        let r = s.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !r.isEmpty else { throw ParseError.bad("no id: \(l)") }
        s = s.dropFirst(r.count)
        return String(r)
      }
      func skipSpaces() { s = s.drop(while: { $0 == " " }) }
      let a = try id()
      skipSpaces()
      if s.first == "=" { continue }  // graph attribute: key="value"
      var b: String? = nil
      if s.hasPrefix("->") {
        s = s.dropFirst(2)
        skipSpaces()
        b = try id()
        skipSpaces()
      }
      var attrs: [String: String] = [:]
      if s.first == "[" {
        s = s.dropFirst()
        while s.first != "]" {
          skipSpaces()
          let k = try id()
          guard s.first == "=" else { throw ParseError.bad("attribute without '=': \(l)") }
          s = s.dropFirst()
          attrs[k] = try id()
          if s.first == "," { s = s.dropFirst() }
          skipSpaces()
          guard !s.isEmpty else { throw ParseError.bad("open '[': \(l)") }
        }
        s = s.dropFirst()
      }
      guard s.isEmpty else { throw ParseError.bad("trailing text: \(l)") }
      if a != "node" { out.append(Statement(from: a, to: b, attrs: attrs)) }
    }
    return out
  }

  static let kinds = ["waits-exit-of", "waits-data-from", "waits-room-from", "waits-accept-from"]

  /// The rules every drawing follows.
  static func check(_ v: Verdict) throws {
    let st = try parse(VerdictDot.render(v))
    let nodes = Dictionary(st.filter { $0.to == nil }.map { ($0.from, $0.attrs) }, uniquingKeysWith: { a, _ in a })
    let terminals = Set(v.terminals.map(\.pid))
    let bystanders = Set(v.bystanders.map(\.pid))
    for p in v.stuck where !bystanders.contains(p) {
      let a = try #require(nodes["p\(p)"], "stuck \(p) not drawn")
      #expect(a["style"]?.contains("filled") == true, "stuck \(p) not filled")
      #expect(a["label"]?.contains("pid \(p)") == true)
    }
    for p in terminals {
      let a = try #require(nodes["p\(p)"])
      #expect(a["style"]?.contains("bold") == true && a["penwidth"] == "3", "terminal \(p) not bold")
    }
    for p in bystanders where !terminals.contains(p) { #expect(nodes["p\(p)"]?["color"] == VerdictDot.bystanderColor) }
    for p in Set(v.cycles.joined()) { #expect(nodes["p\(p)"]?["color"] == VerdictDot.cycleColor) }
    for e in st where e.to != nil {
      #expect(nodes[e.from] != nil && nodes[e.to!] != nil, "edge to an undrawn node")
      for line in (e.attrs["label"] ?? "").split(separator: "\n") {
        #expect(kinds.contains(String(line.split(separator: " ").first ?? "")), "edge label '\(line)'")
      }
    }
    for c in v.cycles where c.count > 1 {
      for (i, p) in c.enumerated() {
        let q = c[(i + 1) % c.count]
        if let e = st.first(where: { $0.from == "p\(p)" && $0.to == "p\(q)" }) { #expect(e.attrs["color"] == VerdictDot.cycleColor) }
      }
    }
  }

  @Test func hangRunTerminalBoldStuckFilledEdgesLabelled() throws {
    let v = try StoredRun.verdict(run: "fault-ignore-cancel")
    try Self.check(v)
    let st = try Self.parse(VerdictDot.render(v))
    let terminal = try #require(st.first { $0.from == "p12179" && $0.to == nil })
    #expect(terminal.attrs["style"] == "filled,bold")
    #expect(terminal.attrs["label"]?.contains("uncancellable-task") == true)
    let stuck = try #require(st.first { $0.from == "p12176" && $0.to == nil })
    #expect(stuck.attrs["style"] == "filled" && stuck.attrs["fillcolor"] == VerdictDot.stuckFill)
    let edge = try #require(st.first { $0.from == "p12176" && $0.to == "p12179" })
    #expect(edge.attrs["label"]?.hasPrefix("waits-exit-of") == true)
  }

  @Test func kernelEdgesNameTheWaitersFD() throws {
    let v = try StoredRun.verdict(run: "fault-blocking-child-wait")
    try Self.check(v)
    let st = try Self.parse(VerdictDot.render(v))
    // root 12704 waits on spawner 12705: its connect-back probe, and the
    // kernel's pidfd (fd 10) and socket (fd 6) in its epoll set.
    let e = try #require(st.first { $0.from == "p12704" && $0.to == "p12705" })
    #expect(e.attrs["label"]?.contains("waits-exit-of fd 10") == true, "\(e.attrs)")
  }

  @Test func everyStoredVerdictDrawsByTheRules() throws {
    for run in ["clean-spawn", "fault-eof-spin", "fault-forkserver-serial", "fault-fork-with-threads", "fault-inherit-fds",
      "fault-stdio-pipe", "unexpected-root-error"]
    {
      try Self.check(try StoredRun.verdict(run: run))
    }
    var sawCycle = false
    var sawBystander = false
    for w in ["watch-pipe_cycle", "watch-pidfd_cycle", "watch-mutual_socketpair", "watch-mp_forkserver_stall",
      "watch-full_pipe", "watch-tcp_cycle", "watch-leak-setsid"]
    {
      let v = try StoredRun.verdict(watch: w)
      try Self.check(v)
      sawCycle = sawCycle || !v.cycles.isEmpty
      sawBystander = sawBystander || !v.bystanders.isEmpty
    }
    #expect(sawCycle && sawBystander, "the stored runs no longer hold a cycle and a bystander to draw")
  }

  @Test func waiterFDFromEdgeEvidence() {
    // The forms WaitEdgeDerivation writes (stored runs), and edges without an fd.
    #expect(WaitEdgeFD.fd(evidence: "epoll_wait on epoll fd 4 (/proc/1/fdinfo/4 tfd) watches fd 6 socket:[3] (sock_diag socket:[3] peer socket:[4], 0 bytes queued), peer holders: 2 fd 3") == 6)
    #expect(WaitEdgeFD.fd(evidence: "recvmsg(2) fd 11 socket:[38379] (sock_diag socket:[38379] peer socket:[38375], 0 bytes queued), peer holders: 14252 fd 8") == 11)
    #expect(WaitEdgeFD.fd(evidence: "write(2) fd 4 pipe:[72] (/proc/5002/fdinfo/4 O_WRONLY), readers: 5001 fd 3") == 4)
    #expect(WaitEdgeFD.fd(evidence: "wait4(pid=12708) in /proc/12705/task/12705/syscall") == nil)
    #expect(WaitEdgeFD.fd(evidence: "probes 12705: child_exit_wait ENTER on 12708, never returned") == nil)
  }

  @Test func escapingKeepsLabelsOneString() {
    #expect(DotWriter.quoted("a \"b\" \\ c\nd") == "\"a \\\"b\\\" \\\\ c\\nd\"")
  }
}
