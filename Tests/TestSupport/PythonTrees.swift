/// Python trees several suites build: one definition each.
public enum PythonTrees {
  /// A child writes 200 KiB into a pipe its parent never reads, while the
  /// parent waits for it: the capture-pipe hang. Prints "ready PARENT CHILD".
  public static let fullPipe = """
      import os
      r, w = os.pipe()
      c = os.fork()
      if c == 0:
          os.close(r)
          os.write(w, b"x" * 200 * 1024)
          os._exit(0)
      os.close(w)
      print("ready", os.getpid(), c, flush=True)
      os.waitpid(c, 0)
      """
}
