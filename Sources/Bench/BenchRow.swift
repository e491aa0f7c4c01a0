import Diagnosis
import MiniJSON


/// One line of the table.
struct BenchRow {
  enum Cmp { case lt, le }
  var key: String
  var name: String
  var unit: String  // "ms" or "µs"
  var samples: [Double] = []
  var median: Double? = nil
  var target: (Cmp, Double)? = nil
  /// (label for text, against, ratio, measured-in-this-run)
  var ratios: [(text: String, against: String, value: Double, measured: Bool)] = []
  var note: String? = nil
  var extra: [(String, JSONValue)] = []

  init(key: String, name: String, unit: String, samples: [Double], target: (Cmp, Double)? = nil) {
    self.key = key
    self.name = name
    self.unit = unit
    self.samples = samples
    self.median = VerdictBuilder.median(samples)
    self.target = target
  }

  init(key: String, name: String, unit: String, skipped: String, target: (Cmp, Double)? = nil) {
    self.key = key
    self.name = name
    self.unit = unit
    self.target = target
    self.note = skipped
  }

  var pass: Bool? {
    guard let m = median, let t = target else { return nil }
    return t.0 == .lt ? m < t.1 : m <= t.1
  }

  var targetText: String {
    guard let t = target else { return "-" }
    var v = "\(t.1)"
    if v.hasSuffix(".0") { v.removeLast(2) }
    return (t.0 == .lt ? "< " : "<= ") + v + " " + unit
  }

  mutating func ratio(_ text: String, against: String, baseline: Double?, measured: Bool = true) {
    guard let m = median, let b = baseline, b > 0 else { return }
    ratios.append((text: text, against: against, value: m / b, measured: measured))
  }
}
