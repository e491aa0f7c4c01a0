/// Why one process cannot proceed until another acts.
public enum WaitKind: String, Sendable {
  case exitOf = "waits-exit-of"
  case dataFrom = "waits-data-from"
  case roomFrom = "waits-room-from"
  case acceptFrom = "waits-accept-from"
}
