/// Fixed-point text without Foundation: 3 significant-ish digits.
func fmtNum(_ x: Double) -> String {
  guard x.isFinite else { return "\(x)" }
  let a = abs(x)
  let decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : a >= 0.01 ? 3 : 4
  return fixed(x, decimals)
}

func fixed(_ x: Double, _ decimals: Int) -> String {
  var scale = 1.0
  for _ in 0..<decimals { scale *= 10 }
  let m = Int64((abs(x) * scale).rounded())
  let ip = m / Int64(scale)
  let fp = m % Int64(scale)
  var s = (x < 0 && m != 0 ? "-" : "") + String(ip)
  if decimals > 0 {
    let f = String(fp)
    s += "." + String(repeating: "0", count: decimals - f.count) + f
  }
  return s
}

func round3(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
