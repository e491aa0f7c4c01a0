import Glibc

/// The process environment, which children started later inherit.
public enum Environment {
  /// setenv(3). Not thread-safe (glibc): call it before any thread starts.
  public static func set(_ name: String, _ value: String) { setenv(name, value, 1) }
}

extension Syscalls {
  /// getcwd(3); nil when the directory is gone or the path is too long.
  public static func currentDirectory() -> String? {
    var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buf, buf.count) != nil else { return nil }
    return String(cString: buf)
  }
}
