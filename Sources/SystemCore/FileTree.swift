import Glibc

/// Deleting files and directories (the bench's scratch space).
public enum FileTree {
  /// lstat(2), then unlink(2) or, for a directory, its entries and rmdir(2).
  /// Symbolic links are removed, never followed. Best effort: what cannot be
  /// removed stays.
  public static func remove(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & S_IFMT) == S_IFDIR {
      for n in Syscalls.listDirectory(path) { remove(path + "/" + n) }
      _ = rmdir(path)
    } else {
      _ = unlink(path)
    }
  }

  /// rmdir(2): removes the directory only when it is empty.
  public static func removeEmptyDirectory(_ path: String) { _ = rmdir(path) }
}
