import Glibc

/// A file opened read-only for reads at offsets (pread(2)); closed on deinit.
/// For parsing files in place (ELF headers and symbol tables) without reading them whole.
public final class ReadOnlyFile {
  public let fd: Int32
  public let size: Int

  /// open(2) O_RDONLY|O_CLOEXEC and fstat(2); nil when either fails.
  public init?(path: String) {
    let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
      _ = Glibc.close(fd)
      return nil
    }
    self.fd = fd
    self.size = Int(st.st_size)
  }

  deinit { _ = Glibc.close(fd) }

  /// pread(2) of up to `count` bytes at `offset` (fewer at end of file); nil on error.
  public func read(offset: Int, count: Int) -> [UInt8]? {
    guard offset >= 0, count >= 0, offset <= size else { return nil }
    let n = min(count, size - offset)
    var out = [UInt8](repeating: 0, count: n)
    var done = 0
    while done < n {
      let r = out.withUnsafeMutableBytes { b in pread(fd, b.baseAddress! + done, n - done, off_t(offset + done)) }
      if r < 0 && errno == EINTR { continue }
      if r <= 0 { return r == 0 ? Array(out[0..<done]) : nil }
      done += r
    }
    return out
  }
}
