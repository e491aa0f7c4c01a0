/// The bench's snapshot target: a chain of 17 python3 processes. Each level
/// forks the next and blocks in os.waitpid; the last sleeps.
/// PR_SET_PDEATHSIG ties every level to its parent should the bench die.
enum ForkChainScript {
  static let python = chain(levels: 16)

  /// `levels` waiters and one sleeper: levels + 1 processes.
  static func chain(levels: Int) -> String {
    """
    import os, time
    try:
        import ctypes
        _prctl = ctypes.CDLL(None).prctl
    except Exception:
        _prctl = None
    def tie():
        if _prctl is not None:
            try: _prctl(1, 9)
            except Exception: pass
    tie()
    for _ in range(\(levels)):
        pid = os.fork()
        if pid:
            os.waitpid(pid, 0)
            os._exit(0)
        tie()
    time.sleep(600)
    """
  }
}
