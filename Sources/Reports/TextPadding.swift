/// Column padding for every text table (verdicts, compare, faults, bench).
extension String {
  /// Left-aligned in `width` columns; a value that fills them gets one
  /// space after it, so columns never run together.
  public func padded(_ width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }

  /// Right-aligned in `width` columns (numbers).
  public func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
