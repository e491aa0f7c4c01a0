import Glibc
import SystemCore

/// The bench's scratch space: only ever deletes below /tmp/tractor-diag-bench/.
enum ScratchDirectory {
  static let root = "/tmp/tractor-diag-bench"

  /// Deletes `path` and everything below it (lstat: links are removed, never followed).
  static func remove(_ path: String) {
    guard path.hasPrefix(root + "/") else { return }
    FileTree.remove(path)
  }

  /// rmdir(2): succeeds only when the directory is empty.
  static func removeIfEmpty(_ path: String) {
    guard path == root || path.hasPrefix(root + "/") else { return }
    FileTree.removeEmptyDirectory(path)
  }
}
