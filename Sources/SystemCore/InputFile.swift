import Glibc

/// A file given as input (a scenario): opened without blocking, accepted
/// only if it is a regular file, read whole up to a limit. A FIFO would
/// otherwise block the open or the read until a writer comes (forever), a
/// directory fails late, a device never ends; a file over the limit must be
/// refused, not cut (a cut JSON file is reported as a wrong error).
public enum InputFile {
  public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(errno: Int32)
    case notRegular(kind: String)
    case tooLarge(limit: Int)
    case cannotRead(errno: Int32)

    public var description: String {
      switch self {
      case .cannotOpen(let e), .cannotRead(let e): return String(cString: strerror(e))
      case .notRegular(let kind): return "not a regular file (\(kind))"
      case .tooLarge(let limit): return "larger than the limit of \(InputFile.describe(bytes: limit))"
      }
    }
  }

  /// open(2) O_RDONLY | O_NONBLOCK, fstat(2), then read(2) until EOF,
  /// refusing anything but a regular file of at most `limit` bytes.
  public static func read(_ path: String, limit: Int) throws(Failure) -> [UInt8] {
    // O_NONBLOCK: an open of a FIFO returns at once (no EINTR to retry).
    let raw = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard raw >= 0 else { throw .cannotOpen(errno: errno) }
    let fd = FileDescriptor(adopting: raw)
    var st = stat()
    guard fstat(fd.rawValue, &st) == 0 else { throw .cannotRead(errno: errno) }
    let status = FileStatus(st)
    guard status.isRegular else { throw .notRegular(kind: kind(status.mode)) }
    guard status.size <= limit else { throw .tooLarge(limit: limit) }
    var out = [UInt8](repeating: 0, count: limit + 1)
    var used = 0
    while used <= limit {
      let r: Result<Int, SystemError> = out.withUnsafeMutableBytes { p in
        do throws(SystemError) { return .success(try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: p[used...]))) } catch {
          return .failure(error)
        }
      }
      let n: Int
      switch r {
      case .success(let k): n = k
      case .failure(let e): throw .cannotRead(errno: e.errno)
      }
      if n == 0 { break }
      used += n
    }
    // Grown since fstat: still over the limit.
    guard used <= limit else { throw .tooLarge(limit: limit) }
    return Array(out[0..<used])
  }

  static func kind(_ mode: UInt32) -> String {
    switch mode & UInt32(S_IFMT) {
    case UInt32(S_IFIFO): return "a FIFO"
    case UInt32(S_IFDIR): return "a directory"
    case UInt32(S_IFCHR): return "a character device"
    case UInt32(S_IFBLK): return "a block device"
    case UInt32(S_IFSOCK): return "a socket"
    default: return "mode \(String(mode, radix: 8))"
    }
  }

  static func describe(bytes: Int) -> String {
    bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
  }
}
