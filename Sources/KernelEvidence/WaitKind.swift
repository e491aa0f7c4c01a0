/// Why one process cannot proceed until another acts. The raw value is the
/// name in text and JSON.
public enum WaitKind: String, Sendable, CustomStringConvertible {
  case exitOf = "waits-exit-of"
  case dataFrom = "waits-data-from"
  case roomFrom = "waits-room-from"
  case acceptFrom = "waits-accept-from"

  public var description: String { rawValue }
}
