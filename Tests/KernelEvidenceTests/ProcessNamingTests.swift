import KernelEvidence
import Testing

/// argv lists as /proc/PID/cmdline showed them for the real trees of
/// Fixtures/python (Debian's python 3.11 in the project's .venv, tractor 0.1.0a5,
/// trio 0.22.2), plus tractor's documented process title.
private let venvPython = "/work/wt/realtrees/.venv/bin/python"

private func identify(_ argv: [String], comm: String = "python", parent: [String]? = nil) -> ProcessIdentity {
  ProcessNaming.identify(argv: argv, comm: comm, parentArgv: parent)
}

@Suite(.timeLimit(.minutes(1)))
struct ProcessNamingTests {
  @Test func tractorTrioBackendChildIsNamedByItsUid() {
    let argv = [
      venvPython, "-m", "tractor._child", "--uid", "('spawner_0_depth_1_errorer_0', '8855a573-ca06-4a39-b7f7-653e6c30a379')",
      "--parent_addr", "('127.0.0.1', 51193)", "--loglevel", "error",
    ]
    #expect(identify(argv) == ProcessIdentity(name: "spawner_0_depth_1_errorer_0", role: .tractorActor))
    // Double quotes (a name holding a single quote) and --uid=VALUE.
    #expect(identify([venvPython, "-m", "tractor._child", "--uid=(\"it's\", 'x')"]).name == "it's")
  }

  @Test func tractorProcessTitleGivesTheActorName() {
    // setproctitle replaces argv: the title is all of cmdline, space-padded at times.
    #expect(identify(["_subactor[doggy@1027301b]"], comm: "_subactor[doggy") ==
      ProcessIdentity(name: "doggy", role: .tractorActor))
    #expect(identify(["_subactor[spawner_0_depth_1_errorer_0@12345]   "]).name == "spawner_0_depth_1_errorer_0")
    #expect(identify(["_subactor[a@b@c1]"]).name == "a@b")
    // Not a title: no closing bracket, or an empty name.
    #expect(identify(["_subactor[broken"], comm: "_subactor[broke").role == .program)
    #expect(identify(["_subactor[@x]"]).role == .program)
  }

  @Test func multiprocessingHelpersAreNamedByRole() {
    let tracker = [venvPython, "-B", "-Wignore", "-c", "from multiprocessing.resource_tracker import main;main(3)"]
    #expect(identify(tracker) == ProcessIdentity(name: "resource tracker", role: .resourceTracker))
    let server = [
      venvPython, "-B", "-Wignore", "-c",
      "from multiprocessing.forkserver import main; main(3, 5, ['__main__'], **{'sys_path': ['/work/wt/realtrees/Fixtures/python', '/usr/lib/python3.11']})",
    ]
    #expect(identify(server, parent: [".venv/bin/python", "-W", "ignore", "Fixtures/python/mp_forkserver_stall.py"]) ==
      ProcessIdentity(name: "fork server", role: .forkServer))
    // A child the server forked keeps its argv: only the parent's tells.
    #expect(identify(server, parent: server) == ProcessIdentity(name: "fork server child", role: .forkServerChild))
    #expect(identify(server).role == .forkServer)
    // Its zombie children have no cmdline left.
    #expect(identify([], parent: server) == ProcessIdentity(name: "fork server child", role: .forkServerChild))
    #expect(identify([], parent: tracker) == ProcessIdentity(name: "python", role: .program))
    let spawnChild = [
      venvPython, "-B", "-Wignore", "-c", "from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=4, pipe_handle=6)",
      "--multiprocessing-fork",
    ]
    #expect(identify(spawnChild) == ProcessIdentity(name: "spawn child", role: .spawnChild))
  }

  @Test func pythonScriptsAndModulesByBasename() {
    #expect(identify([".venv/bin/python", "-W", "ignore", "Fixtures/python/tractor_teardown_hang.py", "--start-method", "trio"]) ==
      ProcessIdentity(name: "tractor_teardown_hang.py", role: .python))
    #expect(identify([venvPython, "/work/wt/realtrees/Fixtures/python/asyncio_event.py", "child"]).name == "asyncio_event.py")
    // A console script: the kernel runs its shebang interpreter with the script's path.
    #expect(identify([venvPython, "/work/wt/realtrees/.venv/bin/pytest", "-k", "nested", "--spawn-backend", "mp_spawn"]).name == "pytest")
    #expect(identify(["python3.11", "-u", "-X", "dev", "-m", "pytest", "tests/test_cancellation.py"]) ==
      ProcessIdentity(name: "pytest", role: .python))
    #expect(identify(["/usr/bin/python3", "-c", "import time; time.sleep(9)"]) == ProcessIdentity(name: "python3 -c", role: .python))
    #expect(identify(["/usr/bin/python3"]) == ProcessIdentity(name: "python3", role: .python))
    // Option clusters as CPython reads them.
    #expect(identify(["python3", "-Bc", "from multiprocessing.resource_tracker import main;main(5)"]).role == .resourceTracker)
    #expect(identify(["python3", "-Wignore", "-mpytest", "-x"]).name == "pytest")
    #expect(identify(["python3", "-uW", "ignore", "run.py"]).name == "run.py")
    #expect(identify(["python3", "--check-hash-based-pycs", "never", "-I", "tool.py"]).name == "tool.py")
  }

  @Test func otherProgramsAndEmptyCmdlines() {
    #expect(identify(["sh", "-c", "sleep 0.3 & exit 0"], comm: "sh") == ProcessIdentity(name: "sh", role: .program))
    #expect(identify(["/work/main/.build/release/tractor-actor", "--spec", "x"], comm: "tractor-actor").name == "tractor-actor")
    #expect(identify(["/usr/bin/python3-config"], comm: "python3-config").role == .program)
    // A zombie's cmdline is empty: comm is all there is.
    #expect(identify([], comm: "python") == ProcessIdentity(name: "python", role: .program))
    #expect(identify([""], comm: "kworker/0:1") == ProcessIdentity(name: "kworker/0:1", role: .program))
  }
}
