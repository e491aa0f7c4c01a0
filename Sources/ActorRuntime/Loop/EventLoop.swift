import SystemCore

/// The single-threaded heart of every actor process: a Swift executor whose
/// jobs run on the thread that called `run()`, with epoll for fd readiness
/// and its own timer heap. No Dispatch, no global executor, no `Task.sleep`:
/// those start threads, and a process with threads is not safe to fork.
///
/// Loop-confined: every member is touched only from the loop thread, which is
/// why the class is `@unchecked Sendable` without locks. `enqueue` from any
/// other thread is a bug and traps (`assertOnLoopThread`).
public final class EventLoop: SerialExecutor, TaskExecutor, @unchecked Sendable {
  /// The loop of this process (replaced in a fork child).
  nonisolated(unsafe) public static var current: EventLoop! = nil

  private var jobs: [UnownedJob] = []
  private var epoll: Epoll
  private let ownerTID: Int32

  // fd readiness waiters, merged per fd because epoll takes one registration per fd.
  fileprivate struct FDWaiter { var token: UInt64; var events: UInt32; var fire: (UInt32) -> Void }
  private var fdWaiters: [Int32: [FDWaiter]] = [:]
  private var registered: [Int32: UInt32] = [:]

  // Timers: a binary min-heap of (deadline, token); cancelled tokens are skipped lazily.
  private var heap: [(UInt64, UInt64)] = []
  private var timerCallbacks: [UInt64: () -> Void] = [:]
  private var nextToken: UInt64 = 1

  /// Work to run between jobs, with no task frame on the stack (fork lives here).
  private var betweenJobs: [() -> Void] = []
  /// The batch of `betweenJobs` being run: a fork child abandons it with the
  /// rest of its parent's state (see `abandonAllForForkChild`).
  private var runningBetweenJobs: [() -> Void] = []
  private var stopped = false
  /// Bumped when a fork child abandons its parent's state.
  public private(set) var generation = 0

  public init() {
    do { epoll = try Epoll() } catch {
      // Without epoll the loop could only spin: fail loudly instead.
      fatalError("event loop: \(error)")
    }
    ownerTID = Syscalls.threadID
  }

  // MARK: executor

  public func enqueue(_ job: consuming ExecutorJob) {
    jobs.append(UnownedJob(job))
  }

  public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }
  public func asUnownedTaskExecutor() -> UnownedTaskExecutor { UnownedTaskExecutor(ordinary: self) }

  /// Starts a task whose jobs (and its child tasks' jobs) run on this loop.
  @discardableResult
  public func spawn<T: Sendable>(_ body: sending @escaping () async -> T) -> Task<T, Never> {
    Task(executorPreference: self, operation: body)
  }

  // MARK: running

  /// Runs jobs, timers and fd callbacks until `stop()`.
  public func run() {
    let serial = asUnownedSerialExecutor()
    let taskExec = asUnownedTaskExecutor()
    stopped = false
    var datas = [UInt64](repeating: 0, count: 64)
    var evs = [UInt32](repeating: 0, count: 64)
    while !stopped {
      // 1. Drain every runnable job; jobs enqueued meanwhile run in this pass too.
      var i = 0
      while i < jobs.count {
        let job = jobs[i]
        i += 1
        job.runSynchronously(isolatedTo: serial, taskExecutor: taskExec)
        if stopped { break }
      }
      jobs.removeFirst(min(i, jobs.count))
      if stopped { break }
      if !jobs.isEmpty { continue }
      // 2. Between jobs: nothing of any task is on this thread's stack now.
      if !betweenJobs.isEmpty {
        runningBetweenJobs = betweenJobs
        betweenJobs.removeAll()
        let gen = generation
        var k = 0
        while k < runningBetweenJobs.count {
          // A fork child that became an actor must not run the rest of its
          // parent's between-jobs work (another fork, say).
          if generation != gen { break }
          let w = runningBetweenJobs[k]
          k += 1
          w()
        }
        runningBetweenJobs = []
        continue
      }
      // 3. Due timers.
      let now = Syscalls.monotonicNs()
      if fireDueTimers(now: now) { continue }
      // 4. Block in epoll until the next timer is due (or forever when none is:
      //    a process with nothing pending and nothing to wake it is hung, which
      //    is exactly what an injected fault wants to show from outside).
      var timeoutMs: Int32 = -1
      if let next = nextDeadline() {
        let delta = next > now ? next - now : 0
        timeoutMs = Int32(min(UInt64(Int32.max), (delta + 999_999) / 1_000_000))
      }
      let n = (try? epoll.wait(data: &datas, events: &evs, timeoutMs: timeoutMs)) ?? 0
      for k in 0..<n { dispatchFD(Epoll.fd(datas[k]), evs[k]) }
    }
  }

  public func stop() { stopped = true }

  /// Schedules `work` to run between jobs (no task frame on the stack).
  public func runBetweenJobs(_ work: @escaping () -> Void) { betweenJobs.append(work) }

  /// Forgets every task, timer and fd waiter: in a fork child the parent's
  /// task tree must never run again. The epoll fd is recreated because the
  /// child's fd sweep closes the inherited one.
  ///
  /// The parent's state is leaked, not freed: freeing it released every
  /// closure and object it held (a fork server child dropped up to ~1000
  /// reap watches and connections), writing to each refcount and so taking
  /// a copy-on-write fault on the page. Measured at depth 7 under
  /// forkserver: 3% of all actor CPU went to this teardown of the parent's
  /// state. Leaking also means no deinit of the parent's objects runs here.
  /// The same goes for the batch of between-jobs work the fork came from:
  /// the fork server forks a whole batch of requests in one pass, and a
  /// child that freed the rest of its batch (each closure with its client
  /// connection and channel end) spent 5% of all actor CPU at depth 7 on it,
  /// 2% in the getpid of each fd's deinit alone.
  public func abandonAllForForkChild() {
    _ = Unmanaged.passRetained(Abandoned(fdWaiters, heap, timerCallbacks, betweenJobs, runningBetweenJobs))
    jobs = []
    fdWaiters = [:]
    registered = [:]
    heap = []
    timerCallbacks = [:]
    betweenJobs = []
    runningBetweenJobs = []
    generation += 1
    do { try epoll.recreateAfterFork() } catch { fatalError("event loop: \(error)") }
  }

  // MARK: fds

  /// Calls `fire` once when `fd` has any of `events` (or HUP/ERR).
  public func onReady(_ fd: Int32, _ events: UInt32, _ fire: @escaping (UInt32) -> Void) -> UInt64 {
    let token = nextToken
    nextToken += 1
    fdWaiters[fd, default: []].append(FDWaiter(token: token, events: events, fire: fire))
    updateRegistration(fd)
    return token
  }

  public func cancelReady(_ fd: Int32, _ token: UInt64) {
    guard var list = fdWaiters[fd] else { return }
    list.removeAll { $0.token == token }
    fdWaiters[fd] = list.isEmpty ? nil : list
    updateRegistration(fd)
  }

  /// Drops every waiter of an fd that is about to be closed.
  public func forget(_ fd: Int32) {
    fdWaiters[fd] = nil
    updateRegistration(fd)
  }

  private func updateRegistration(_ fd: Int32) {
    let want = (fdWaiters[fd] ?? []).reduce(UInt32(0)) { $0 | $1.events }
    let have = registered[fd]
    if want == 0 {
      if have != nil {
        epoll.remove(fd)
        registered[fd] = nil
      }
    } else if have == nil {
      if (try? epoll.add(fd, want)) != nil {
        registered[fd] = want
      } else {
        // Not pollable (e.g. a closed fd): report it ready so the waiter sees the error itself.
        runBetweenJobs { [weak self] in self?.dispatchFD(fd, Epoll.error) }
      }
    } else if have != want {
      try? epoll.modify(fd, want)
      registered[fd] = want
    }
  }

  private func dispatchFD(_ fd: Int32, _ ev: UInt32) {
    guard let list = fdWaiters[fd] else { updateRegistration(fd); return }
    let always = Epoll.hangup | Epoll.error
    var fired: [FDWaiter] = []
    var kept: [FDWaiter] = []
    for w in list { if ev & (w.events | always) != 0 { fired.append(w) } else { kept.append(w) } }
    fdWaiters[fd] = kept.isEmpty ? nil : kept
    updateRegistration(fd)
    for w in fired { w.fire(ev) }
  }

  // MARK: timers

  /// Calls `fire` once at monotonic time `deadline` (ns).
  public func at(_ deadline: UInt64, _ fire: @escaping () -> Void) -> UInt64 {
    let token = nextToken
    nextToken += 1
    timerCallbacks[token] = fire
    heap.append((deadline, token))
    var c = heap.count - 1
    while c > 0 {
      let p = (c - 1) / 2
      if heap[p].0 <= heap[c].0 { break }
      heap.swapAt(p, c)
      c = p
    }
    return token
  }

  public func cancelTimer(_ token: UInt64) { timerCallbacks[token] = nil }

  private func nextDeadline() -> UInt64? {
    while let top = heap.first, timerCallbacks[top.1] == nil { popHeap() }
    return heap.first?.0
  }

  private func popHeap() {
    heap.swapAt(0, heap.count - 1)
    heap.removeLast()
    var p = 0
    while true {
      let l = 2 * p + 1
      let r = l + 1
      var m = p
      if l < heap.count && heap[l].0 < heap[m].0 { m = l }
      if r < heap.count && heap[r].0 < heap[m].0 { m = r }
      if m == p { break }
      heap.swapAt(p, m)
      p = m
    }
  }

  private func fireDueTimers(now: UInt64) -> Bool {
    var any = false
    while let top = heap.first, top.0 <= now {
      popHeap()
      if let f = timerCallbacks.removeValue(forKey: top.1) {
        any = true
        f()
      }
    }
    return any
  }
}

/// A fork child's reference to its parent's loop state, never released.
/// Typed fields, not a tuple in an `Any`: boxing a tuple instantiated its
/// type metadata in every child (measured: 6% of all actor CPU). The jobs
/// are unowned and `registered` holds no object: nothing to keep.
private final class Abandoned {
  let fdWaiters: [Int32: [EventLoop.FDWaiter]]
  let heap: [(UInt64, UInt64)]
  let timerCallbacks: [UInt64: () -> Void]
  let betweenJobs: [() -> Void]
  let runningBetweenJobs: [() -> Void]
  init(
    _ fdWaiters: [Int32: [EventLoop.FDWaiter]], _ heap: [(UInt64, UInt64)], _ timerCallbacks: [UInt64: () -> Void],
    _ betweenJobs: [() -> Void], _ runningBetweenJobs: [() -> Void]
  ) {
    self.fdWaiters = fdWaiters
    self.heap = heap
    self.timerCallbacks = timerCallbacks
    self.betweenJobs = betweenJobs
    self.runningBetweenJobs = runningBetweenJobs
  }
}
