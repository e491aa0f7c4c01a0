import Glibc
import MiniJSON
import SystemCore
import Testing

/// The pytest plugin (Integrations/pytest) end to end: pip installs it from
/// the repository offline into a scratch directory (never into .venv), real
/// pytest runs a tiny project with it, the plugin re-runs pytest under
/// `watch --control`, and at the deadline watch's verdict reaches the test's
/// report and the JUnit XML. The runs are wrapped in a plain `watch` (no
/// --control) as a bound: past its timeout it exits 124, and if anything of
/// the run outlives pytest it exits 3, besides the test's own leak check.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct PytestPluginTests {
  static let repo: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)  // Tests/EndToEndTests/PytestPluginTests.swift
    return parts.joined(separator: "/")
  }()

  /// The project venv's python with pytest (`make deps`).
  static let python: String? = {
    let p = "\(repo)/.venv/bin/python"
    guard access(p, X_OK) == 0, Syscalls.listDirectory("\(repo)/.venv/lib").contains(where: { v in
      Syscalls.listDirectory("\(repo)/.venv/lib/\(v)/site-packages").contains("pytest")
    }) else { return nil }
    return p
  }()

  static let testProject = """
    import os, subprocess, sys
    import pytest

    def test_child_blocks_on_full_pipe():
        # The child writes 200 KB to a pipe this test never reads, and the
        # test waits for the child: both wait forever once the pipe's 64 KiB
        # buffer is full.
        child = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdout.write('x' * 200000); sys.stdout.flush()"],
            stdout=subprocess.PIPE,
        )
        child.wait()

    def test_passes():
        assert sum(range(4)) == 6

    @pytest.mark.diag_timeout(3)
    def test_reads_its_own_pipe():
        # No child to end: only the signal to the main thread ends this read.
        r, w = os.pipe()
        os.read(r, 1)

    """

  /// Installs the plugin with pip (no index, no build isolation) into DIR/site.
  static func install(into dir: String) -> ToolRun {
    ToolProcess.run(
      [
        "watch", "--timeout", "30", "--no-stacks", "--", python!, "-m", "pip", "install", "-q", "--disable-pip-version-check",
        "--no-build-isolation", "--no-deps", "--no-index", "--target", "\(dir)/site", "\(repo)/Integrations/pytest",
      ], timeoutSeconds: 40)
  }

  /// The <testcase ...>...</testcase> (or self-closed) element of `name`.
  static func testcase(_ xml: String, _ name: String) -> String? {
    guard let start = xml.firstRange(of: "name=\"\(name)\"") else { return nil }
    let rest = xml[start.lowerBound...]
    guard let end = rest.firstRange(of: "</testcase>") ?? rest.firstRange(of: "/>") else { return nil }
    let next = rest.firstRange(of: "<testcase")
    if let next, next.lowerBound < end.lowerBound { return String(rest[..<next.lowerBound]) }
    return String(rest[..<end.upperBound])
  }

  /// A child blocked on a full pipe fails its test at the 5 s deadline with
  /// the class in the output and in JUnit XML; a test blocked in read(2) with
  /// nothing below it fails at its marker's 3 s; the passing test gets
  /// nothing; nothing of the run is left.
  @Test(.enabled(if: python != nil, "no pytest in \(repo)/.venv (run `make deps`)"))
  func aTestWhoseChildBlocksOnAFullPipeFailsWithTheVerdict() throws {
    let dir = ToolProcess.runDir("pytest-plugin")
    let pip = Self.install(into: dir)
    try #require(pip.status == 0, "pip install failed: \(pip.stdout) \(pip.stderr)")
    try Syscalls.writeFile("\(dir)/test_hang.py", Self.testProject)
    // The plugin finds tractor-diag on PATH (its default); pytest runs in DIR,
    // where watch's request files go too. 30 s bound: a hang is exit 124.
    let r = ToolProcess.run(
      [
        "watch", "--timeout", "30", "--no-stacks", "--", "/usr/bin/env", "-C", dir, "PATH=\(ToolProcess.binDir):/usr/bin:/bin",
        "PYTHONPATH=\(dir)/site", Self.python!, "-m", "pytest", "-p", "no:cacheprovider", "--diag-timeout", "5",
        "--junitxml=\(dir)/junit.xml", "test_hang.py",
      ], timeoutSeconds: 45)
    #expect(ToolProcess.survivors().isEmpty, "a process of the run survived")
    let out = r.stdout + r.stderr
    #expect(r.status == 1, "pytest's own exit status for a failed test (124: the bound passed; 3: a leak): \(out)")
    #expect(out.contains("diag-timeout 5 s: blocked-on-full-pipe"), "\(out)")
    #expect(out.contains("tractor-diag verdict"), "the verdict section: \(out)")
    #expect(out.contains("2 failed, 1 passed"), "\(out)")
    // The verdict section was added to the failing tests only.
    #expect(out.ranges(of: "tractor-diag verdict").count == 2, "\(out)")

    let xml = try #require(Syscalls.readFile("\(dir)/junit.xml").map { String(decoding: $0, as: UTF8.self) })
    let failing = try #require(Self.testcase(xml, "test_child_blocks_on_full_pipe"), "\(xml)")
    #expect(failing.contains("<property name=\"tractor_diag_class\" value=\"blocked-on-full-pipe\""), "\(failing)")
    #expect(failing.contains("<failure message=\"diag-timeout 5 s: blocked-on-full-pipe"), "\(failing)")
    // The marker's deadline; the read(2) in the main thread was interrupted.
    let reader = try #require(Self.testcase(xml, "test_reads_its_own_pipe"), "\(xml)")
    #expect(reader.contains("<failure message=\"diag-timeout 3 s: "), "\(reader)")
    #expect(reader.contains("<property name=\"tractor_diag_class\""), "\(reader)")
    let passing = try #require(Self.testcase(xml, "test_passes"), "\(xml)")
    #expect(!passing.contains("property") && !passing.contains("failure"), "\(passing)")

    // The request file watch wrote holds the same verdict.
    let fileProp = "<property name=\"tractor_diag_file\" value=\""
    let file = try #require(failing.firstRange(of: fileProp).map { failing[$0.upperBound...].prefix { $0 != "\"" } }, "\(failing)")
    let record = try JSONParser.parse(bytes: try Syscalls.readWholeFile(String(file)))
    #expect(record["reason"]?.string == "request")
    #expect(record["verdict"]?["hangClass"]?.string == "blocked-on-full-pipe")
    #expect(record["label"]?.string == "test_hang.py::test_child_blocks_on_full_pipe")
  }

  /// The control socket's rules, from a client under `watch --control`: a
  /// private directory and socket, a bad line refused, a pid outside the
  /// caller's subtree refused, the caller's own subtree judged and ended, and
  /// an orphan (reparented to watch, so no longer below the command) refused.
  static let protocolClient = #"""
    import json, os, socket, stat, subprocess, sys

    path = os.environ["TRACTOR_DIAG_CONTROL"]

    def ask(line):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(20)
            s.connect(path)
            s.sendall(line.encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            return json.loads(data)

    def say(step, value):
        print(json.dumps({"step": step, "value": value}), flush=True)

    say("path", path)
    say("modes", [oct(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode)), oct(stat.S_IMODE(os.stat(path).st_mode))])
    say("notJSON", ask("hello"))
    say("notBelowCaller", ask(json.dumps({"op": "diagnose", "pid": 1})))
    child = subprocess.Popen(["sleep", "30"])
    r = ask(json.dumps({"op": "diagnose", "pid": os.getpid(), "exclude": [os.getpid()], "kill": True, "label": "own"}))
    say("own", {"ok": r["ok"], "killed": r["killed"], "child": child.pid, "summary": r["summary"]})
    say("childStatus", child.wait(timeout=20))
    # An orphan is reparented to watch (a subreaper): no longer below the command.
    rd, wr = os.pipe()
    if os.fork() == 0:
        if os.fork() == 0:
            os.close(rd)
            while os.getppid() != int(sys.argv[1]):
                os.sched_yield()
            os.write(wr, json.dumps(ask(json.dumps({"op": "diagnose", "pid": os.getpid()}))).encode())
            os._exit(0)
        os._exit(0)
    os.close(wr)
    os.wait()
    with os.fdopen(rd) as f:
        say("orphan", json.loads(f.read()))

    """#

  @Test(.enabled(if: python != nil, "no python in \(repo)/.venv (run `make deps`)"))
  func theControlSocketAnswersOnlyTheCommandsOwnSubtree() throws {
    let dir = ToolProcess.runDir("control-socket")
    try Syscalls.writeFile("\(dir)/client.py", Self.protocolClient)
    // The watch under test runs in DIR (its request files go there), inside a
    // plain watch as the bound. $PPID in sh -c is the inner watch: the orphan
    // waits until it is reparented there.
    let r = ToolProcess.run(
      [
        "watch", "--timeout", "30", "--no-stacks", "--", "/usr/bin/env", "-C", dir, ToolProcess.tool, "watch", "--control",
        "--timeout", "30", "--no-stacks", "--", "/bin/sh", "-c", "exec \(Self.python!) \(dir)/client.py $PPID",
      ], timeoutSeconds: 45)
    #expect(ToolProcess.survivors().isEmpty, "a process of the run survived")
    #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
    var steps: [String: JSONValue] = [:]
    for line in r.stdout.split(separator: "\n") {
      if let j = try? JSONParser.parse(String(line)), let k = j["step"]?.string { steps[k] = j["value"] }
    }
    let path = try #require(steps["path"]?.string, "\(r.stdout) \(r.stderr)")
    #expect(steps["modes"]?.array?.compactMap(\.string) == ["0o700", "0o600"])
    #expect(access(path, F_OK) != 0, "the socket outlived watch")
    #expect(steps["notJSON"]?["ok"]?.bool == false)
    #expect(steps["notBelowCaller"]?["error"]?.string?.hasPrefix("pid 1 is not the caller") == true, "\(r.stdout)")
    let own = try #require(steps["own"], "\(r.stdout)")
    #expect(own["ok"]?.bool == true)
    #expect(own["killed"]?.array?.map(\.int) == [own["child"]?.int], "\(own)")
    #expect(own["summary"]?.string?.hasPrefix("sleeping:") == true, "\(own)")
    #expect(steps["childStatus"]?.int == -9, "SIGKILLed by watch")
    #expect(steps["orphan"]?["error"]?.string?.contains("is not the watched command") == true, "\(r.stdout)")
    #expect(Syscalls.listDirectory("\(dir)/tractor-diag-runs").count == 1, "one run dir for the one judged request")
  }
}
