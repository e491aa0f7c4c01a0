import CUnwind
import Glibc
import SystemCore

/// Native stacks of every thread of another process, one thread at a time:
/// ptrace stop, copy of registers + stack top, detach, then libunwind over
/// the copy (linked into the release tool, dlopen'ed in other builds).
public enum NativeStacks {
  /// How long one thread may take to report its ptrace stop after
  /// PTRACE_INTERRUPT before we give up on it (waitpid WNOHANG polling).
  static let stopWaitMs: Int32 = 500
  /// Extra bounded wait for a thread that was left attached after a timeout.
  static let retryDetachMs: Int32 = 1000
  /// Hard cap on frames per thread.
  static let frameCap = 256
  /// Most bytes of each thread's stack copied (from its stack pointer) while
  /// it is stopped; the unwind runs on the copy after the detach.
  static let stackCopyBytes = 256 * 1024

  /// True when libunwind is usable: always in the static release tool, which
  /// links it; elsewhere when dlopen of libunwind-x86_64.so.8 and
  /// libunwind-ptrace.so.0 and dlsym of what we use succeed.
  public static var isAvailable: Bool { cu_load(nil, 0) != 0 }

  /// Why libunwind is not available (nil when it is).
  public static var unavailableReason: String? {
    var buf = [CChar](repeating: 0, count: 256)
    if cu_load(&buf, buf.count) != 0 { return nil }
    return cString(buf)
  }

  /// Captures the native stack of every thread of `pid`.
  ///
  /// Per thread: ptrace(PTRACE_SEIZE), ptrace(PTRACE_INTERRUPT), bounded
  /// waitpid(__WALL), PTRACE_GETREGS + a copy of the top of its stack
  /// (process_vm_readv), ptrace(PTRACE_DETACH); then, with the thread
  /// running again, libunwind over the copy (raw pcs only). Names are resolved only after every thread has been
  /// detached. Never throws; never leaves the target stopped or attached
  /// (a thread that does not stop within 500 ms is retried, bounded, and
  /// reported in its note). Problems are reported in `note` fields.
  ///
  /// `maps` is the text of /proc/PID/maps when the caller has read it already
  /// (a snapshot reads it once per process for every reader: each read costs
  /// the kernel a walk of every mapping with path formatting).
  public static func capture(pid: Int32, maxFrames: Int = 48, symbolizer: Symbolizer = .fast, maps: [UInt8]? = nil)
    -> ProcessStacks
  {
    let t0 = Syscalls.monotonicNs()
    var result = captureUntimed(pid: pid, maxFrames: maxFrames, symbolizer: symbolizer, maps: maps)
    result.elapsedNs = Syscalls.monotonicNs() - t0
    return result
  }

  static func captureUntimed(pid: Int32, maxFrames: Int, symbolizer: Symbolizer, maps: [UInt8]?) -> ProcessStacks {
    var result = ProcessStacks(pid: pid)

    let tids: [Int32]
    switch ProcFiles.tasks(pid) {
    case .success(let list):
      tids = list
    case .failure(let e):
      result.note = e.code == ENOENT ? "no such process" : "cannot list /proc/\(pid)/task: \(e)"
      return result
    }
    if tids.isEmpty {
      result.note = "no threads (process exited)"
      return result
    }

    // /proc evidence first: cheap, needs no stop, and is all we have when
    // ptrace is refused.
    var threads = tids.map { tid -> ThreadStack in
      ThreadStack(
        tid: tid,
        name: ProcFiles.trimmed(ProcFiles.read("/proc/\(pid)/task/\(tid)/comm")) ?? "?",
        state: ProcFiles.state(pid: pid, tid: tid) ?? "?",
        wchan: ProcFiles.trimmed(ProcFiles.read("/proc/\(pid)/task/\(tid)/wchan")).flatMap {
          $0.isEmpty || $0 == "0" ? nil : $0
        },
        syscall: ProcFiles.trimmed(ProcFiles.read("/proc/\(pid)/task/\(tid)/syscall")))
    }

    var libErr = [CChar](repeating: 0, count: 256)
    guard cu_load(&libErr, libErr.count) != 0 else {
      result.note = "libunwind not available: \(cString(libErr)) (/proc-only evidence)"
      result.threads = threads
      return result
    }
    if pid == Syscalls.pid {
      result.note = "cannot ptrace our own process: /proc-only evidence"
      result.threads = threads
      return result
    }

    let u0 = Syscalls.monotonicNs()
    let maxN = max(1, min(maxFrames, frameCap))
    var rawPCs: [[UInt64]] = Array(repeating: [], count: threads.count)
    var stillAttached: [Int] = []
    var permissionDenied = 0
    var exited = 0

    // One session (libunwind address space + caches) per target process:
    // libunwind caches unwind info by address, so it must not be shared
    // between processes. The maps are read before any stop.
    let mapsText = maps ?? Syscalls.readFile("/proc/\(pid)/maps") ?? []
    let session = mapsText.withUnsafeBufferPointer { b in
      b.withMemoryRebound(to: CChar.self) { cu_session_create(pid, stackCopyBytes, $0.baseAddress, $0.count) }
    }
    defer { cu_session_destroy(session) }
    if session == nil {
      result.note = "libunwind not available: unw_create_addr_space failed (/proc-only evidence)"
      result.threads = threads
      return result
    }

    var pcs = [UInt64](repeating: 0, count: maxN)
    for i in threads.indices {
      let tid = threads[i].tid
      switch threads[i].state {
      case "D":
        // PTRACE_INTERRUPT only takes effect when the thread returns to user
        // mode, which an uninterruptible sleep may not do for a long time.
        threads[i].note = "uninterruptible sleep (D): not stopped; see /proc/\(pid)/task/\(tid)/stack"
        continue
      case "Z", "X":
        threads[i].note = "thread exited (zombie)"
        exited += 1
        continue
      default:
        break
      }
      var r = cu_thread_result()
      let n = pcs.withUnsafeMutableBufferPointer {
        cu_unwind_thread(session, tid, $0.baseAddress, nil, Int32(maxN), stopWaitMs, &r)
      }
      threads[i].stallNs = r.stall_ns
      if n > 0 { rawPCs[i] = Array(pcs[0..<Int(n)]) }
      if r.detached == 0 { stillAttached.append(i) }
      threads[i].note = note(for: r, pid: pid, tid: tid)
      if Int(r.stage) == CU_STAGE_SEIZE && r.err == EPERM { permissionDenied += 1 }
      if Int(r.stage) == CU_STAGE_EXITED || (Int(r.stage) == CU_STAGE_SEIZE && r.err == ESRCH)
        || Int(r.stage) == CU_STAGE_INTERRUPT
      {
        exited += 1
      }
    }
    // Same OS thread as the attach (this function is synchronous): finish any
    // detach that timed out above.
    for i in stillAttached {
      if cu_retry_detach(threads[i].tid, retryDetachMs) != 0 {
        threads[i].note = (threads[i].note ?? "") + "; detached late"
      } else {
        threads[i].note =
          (threads[i].note ?? "") + "; STILL ATTACHED (will detach when it stops or when we exit)"
      }
    }
    result.unwindNs = Syscalls.monotonicNs() - u0

    if permissionDenied == threads.count {
      result.note = "ptrace not permitted: /proc-only evidence"
    } else if exited == threads.count {
      result.note = "process exited during capture"
    }

    // All threads are detached: name the frames now.
    let s0 = Syscalls.monotonicNs()
    Symbolication.resolve(
      pid: pid, threads: &threads, raw: rawPCs, symbolizer: symbolizer, maps: ProcFiles.parseMaps(mapsText))
    result.symbolizeNs = Syscalls.monotonicNs() - s0
    result.threads = threads
    return result
  }

  static func note(for r: cu_thread_result, pid: Int32, tid: Int32) -> String? {
    let err = Errno(code: r.err)
    switch Int(r.stage) {
    case CU_STAGE_OK:
      return r.forwarded_sig != 0 ? "signal \(r.forwarded_sig) was being delivered; re-injected" : nil
    case CU_STAGE_SEIZE:
      if r.err == ESRCH { return "thread exited before attach" }
      if r.err == EPERM {
        if let tracer = ProcFiles.tracerPid(pid: pid, tid: tid), tracer != 0 {
          return "already traced by pid \(tracer) (PTRACE_SEIZE: EPERM)"
        }
        return "ptrace not permitted (PTRACE_SEIZE: EPERM)"
      }
      return "PTRACE_SEIZE failed: \(err)"
    case CU_STAGE_INTERRUPT:
      return "thread exited during attach (PTRACE_INTERRUPT: \(err))"
    case CU_STAGE_WAIT:
      if r.err == ETIMEDOUT { return "did not stop within \(stopWaitMs) ms" }
      return "waitpid failed: \(err)"
    case CU_STAGE_EXITED:
      return "thread exited during capture"
    case CU_STAGE_UPT:
      return "_UPT_create failed"
    case CU_STAGE_REGS:
      return "PTRACE_GETREGS failed: \(err)"
    case CU_STAGE_INIT:
      return "unw_init_remote failed (libunwind error \(r.err))"
    case CU_STAGE_STEP:
      // Many stacks end with an unwind error at the outermost frame; only a
      // short stack makes it worth a note.
      return r.nframes <= 1 ? "unwind stopped after \(r.nframes) frame(s) (libunwind error \(r.err))" : nil
    case CU_STAGE_NOLIB:
      return "libunwind not available"
    default:
      return "unexpected stage \(r.stage)"
    }
  }
}

/// Text of a NUL-terminated C buffer.
func cString(_ buf: [CChar]) -> String {
  let bytes = buf.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
  return String(decoding: bytes, as: UTF8.self)
}
