import Glibc
import MiniJSON
import Reports
import SystemCore

extension BenchRunner {
  // MARK: Output

  var header: String {
    "tractor-diag bench: medians over \(runs) runs\(quick ? " (--quick)" : ""); \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) CPUs; "
      + "load \(loadavg()); \(fmtNum(totalMs / 1000)) s total"
  }

  func loadavg() -> String {
    guard let b = Syscalls.readFile("/proc/loadavg", limit: 256) else { return "?" }
    return String(decoding: b, as: UTF8.self).split(separator: " ").prefix(3).joined(separator: " ")
  }

  public var text: String {
    var out = header + "\n\n"
    out += "measurement".padded(50) + "median".leftPadded(11) + "  " + "target".padded(11) + "result".padded(7) + "ratio / baseline\n"
    out += String(repeating: "-", count: 120) + "\n"
    for r in rows {
      let med = r.median.map { fmtNum($0) + " " + r.unit } ?? "n/a"
      let res = r.pass.map { $0 ? "PASS" : "MISS" } ?? "-"
      let ratio = r.ratios.map { fmtNum($0.value) + "x " + $0.text }.joined(separator: ", ")
      out += r.name.padded(50) + med.leftPadded(11) + "  " + r.targetText.padded(11) + res.padded(7) + ratio + "\n"
      if let n = r.note { out += "".padded(4) + "(" + n + ")\n" }
    }
    if !notes.isEmpty {
      out += "\nnotes:\n"
      for n in notes { out += "  - " + n + "\n" }
    }
    out += "\n'anchor' ratios compare with fixed numbers measured once elsewhere (written beside each row in Sources/Bench), not with a measurement of this run.\n"
    return out
  }

  public var json: JSONValue {
    let rowsJ: [JSONValue] = rows.map { r in
      var o: [(String, JSONValue)] = [
        ("key", .string(r.key)), ("name", .string(r.name)), ("unit", .string(r.unit)),
        ("median", r.median.map { .double(round3($0)) } ?? .null),
        ("n", .int(Int64(r.samples.count))),
        ("min", r.samples.min().map { .double(round3($0)) } ?? .null),
        ("max", r.samples.max().map { .double(round3($0)) } ?? .null),
        (
          "target",
          r.target.map { t in .object([("op", .string(t.0 == .lt ? "<" : "<=")), ("value", .double(t.1))]) } ?? .null
        ),
        ("pass", r.pass.map { .bool($0) } ?? .null),
        (
          "ratios",
          .array(
            r.ratios.map {
              .object([
                ("against", .string($0.against)), ("ratio", .double(round3($0.value))), ("measuredInThisRun", .bool($0.measured)),
              ])
            })
        ),
        ("note", .from(r.note)),
      ]
      o += r.extra
      return .object(o)
    }
    return .object([
      ("runs", .int(Int64(runs))), ("quick", .bool(quick)), ("cpus", .int(Int64(sysconf(Int32(_SC_NPROCESSORS_ONLN))))),
      ("loadavg", .string(loadavg())), ("threadsAtStart", .int(Int64(threadsAtStart))), ("totalMs", .double(round3(totalMs))),
      ("rows", .array(rowsJ)), ("notes", .array(notes.map { .string($0) })),
    ])
  }
}
