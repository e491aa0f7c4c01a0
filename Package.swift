// swift-tools-version:6.0
import PackageDescription

// Layers, bottom to top (each target has one job):
//   CSystem, CKernel, CUnwind   C shims for what Glibc does not expose to Swift
//                               (CUnwind: load, capture, elf, demangle, files)
//   SystemCore                  every syscall wrapper, typed errors, owned fds
//   MiniJSON                    a small JSON value, parser and printer (no Foundation)
//   Probes                      probe events: one line builder, writer (crash-safe), reader
//   Supervision                 processes the tool starts and ends: launcher (posix_spawn),
//                               owned child (pid + pidfd), tree reaper with a teardown
//                               ladder, termination signals, filter process
//   ActorRuntime                loop executor, IPC, nursery, backends, actor main; reads typed
//                               settings from its spawn spec, never a fault name; and
//                               RunSupervisor (the tool's side of a run, on Supervision)
//   FaultInjection              the fault catalog: fault name -> runtime settings, once
//   KernelEvidence              /proc + sock_diag snapshot of any process tree
//   NativeStacks                libunwind-over-ptrace stacks (libunwind linked in release, dlopen'ed otherwise)
//   PythonStacks                CPython threads/frames and trio/asyncio task trees via process_vm_readv
//   Diagnosis                   verdicts: stuck pids, wait chains, hang classes; exit codes
//   Reports                     text / JSON rendering of verdicts
//   Bench                       the bench harness (make bench)
//   CommandLineOptions          the command-line parser and help text (no Foundation)
//   tractor-diag                the CLI, one small struct per command
//   tractor-actor               the actor process and fork server (no Foundation)
let package = Package(
  name: "tractor-diag",
  products: [
    .executable(name: "tractor-diag", targets: ["tractor-diag"]),
    .executable(name: "tractor-actor", targets: ["tractor-actor"]),
  ],
  // No package dependencies. swift-argument-parser was one until its first
  // parse (Mirror, protocol-conformance scans over a static binary, and the
  // FoundationEssentials it links) measured ~60% of `snapshot`'s start-up.
  targets: [
    .target(name: "CSystem"),
    .target(name: "CKernel"),
    // Debug builds (and the tests) dlopen libunwind at first use; release
    // builds link its static archives into tractor-diag, a static executable
    // (CU_STATIC_EXECUTABLE; see Load.c). Order matters for archives: ptrace's
    // objects need x86_64's, which need lzma's.
    .target(
      name: "CUnwind",
      cSettings: [.define("CU_STATIC_EXECUTABLE", .when(configuration: .release))],
      linkerSettings: [
        .linkedLibrary("dl", .when(configuration: .debug)),
        .linkedLibrary("unwind-ptrace", .when(configuration: .release)),
        .linkedLibrary("unwind-x86_64", .when(configuration: .release)),
        .linkedLibrary("lzma", .when(configuration: .release)),
      ]),
    .target(name: "SystemCore", dependencies: ["CSystem"]),
    .target(name: "MiniJSON"),
    .target(name: "CommandLineOptions"),
    .target(name: "Probes", dependencies: ["SystemCore", "MiniJSON"]),
    .target(name: "Supervision", dependencies: ["SystemCore"]),
    .target(name: "ActorRuntime", dependencies: ["SystemCore", "MiniJSON", "Probes", "Supervision"]),
    .target(name: "FaultInjection", dependencies: ["ActorRuntime"]),
    .target(name: "KernelEvidence", dependencies: ["CKernel", "SystemCore"]),
    .target(name: "NativeStacks", dependencies: ["CUnwind", "SystemCore", "Supervision"]),
    .target(name: "PythonStacks", dependencies: ["SystemCore", "MiniJSON"]),
    .target(
      name: "Diagnosis",
      dependencies: [
        "SystemCore", "MiniJSON", "Probes", "ActorRuntime", "KernelEvidence", "NativeStacks", "PythonStacks", "Supervision",
      ]),
    .target(name: "Reports", dependencies: ["Diagnosis", "MiniJSON", "PythonStacks"]),
    .target(
      name: "Bench",
      dependencies: [
        "ActorRuntime", "Diagnosis", "FaultInjection", "KernelEvidence", "MiniJSON", "NativeStacks", "Probes", "Reports", "Supervision",
        "SystemCore",
      ]),
    // Every actor pays this binary's start-up, and every fork child faults in
    // the pages it runs. Linked fully static: exec does no dynamic linking
    // (libswiftCore, libstdc++, libc), and a process has a few mappings
    // instead of ~40. Measured: posix_spawn to first probe 2.2 -> 0.8 ms, a
    // fork child 0.41 -> 0.33 ms (make bench, one spawn at a time). lld
    // links it: gold warns on every build about glibc's static dlopen, which
    // the Swift runtime references but tractor-actor never reaches.
    .executableTarget(
      name: "tractor-actor", dependencies: ["ActorRuntime", "Supervision"],
      linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld"])]),
    // Release: a static, position-dependent executable (as tractor-actor).
    // As a PIE it carried ~41,600 relative relocations that the loader
    // applied (and page-faulted in) on every start; dynamically linked, the
    // loader then mapped and relocated glibc, libstdc++ and libunwind. Static
    // (lld), a start is an exec and the Swift runtime's own set-up: `snapshot
    // 2147483647 --tree` 5.2-5.7 ms -> 3.0-4.0 ms (perf stat, 40 runs). The
    // tool is short-lived and runs as the user; ASLR of its own text buys
    // nothing here. Debug builds (the tests) stay dynamic.
    .executableTarget(
      name: "tractor-diag",
      dependencies: [
        "Diagnosis", "Reports", "ActorRuntime", "Bench", "FaultInjection", "PythonStacks", "Supervision",
        "CommandLineOptions",
      ],
      linkerSettings: [.unsafeFlags(["-static-executable", "-use-ld=lld"], .when(configuration: .release))]),
    // Spawning and reaping real process trees from tests, shared by suites.
    .target(name: "TestSupport", dependencies: ["CSystem"], path: "Tests/TestSupport"),
    .testTarget(name: "RuntimeTests", dependencies: ["ActorRuntime", "FaultInjection", "MiniJSON", "Probes", "SystemCore"]),
    .testTarget(
      name: "EndToEndTests",
      dependencies: [
        "ActorRuntime", "Diagnosis", "MiniJSON", "SystemCore", "Probes", "CSystem", "Reports", "Supervision", "TestSupport",
      ]),
    .testTarget(name: "KernelEvidenceTests", dependencies: ["KernelEvidence", "TestSupport"]),
    .testTarget(name: "SystemCoreTests", dependencies: ["SystemCore"]),
    .testTarget(name: "CommandLineOptionsTests", dependencies: ["CommandLineOptions"]),
    .testTarget(name: "SupervisionTests", dependencies: ["Supervision", "SystemCore"]),
    // Verdicts from stored run directories (Tests/DiagnosisTests/Runs): no processes.
    .testTarget(
      name: "DiagnosisTests", dependencies: ["Diagnosis", "KernelEvidence", "MiniJSON", "Probes", "Reports", "SystemCore"],
      exclude: ["Runs"]),
    .testTarget(
      name: "PythonStacksTests", dependencies: ["PythonStacks", "Reports", "KernelEvidence", "MiniJSON", "TestSupport", "SystemCore"]),
    .testTarget(name: "NativeStacksTests", dependencies: ["NativeStacks", "TestSupport", "SystemCore", "CSystem"]),
  ],
  swiftLanguageModes: [.v6]
)

// Release builds of every Swift target reach type metadata through direct
// accessor calls, not through mangled names that the runtime demangles on
// first use (swift_getTypeByMangledName): that demangling was ~9% of a
// `snapshot --tree` of 6 Python processes, spread over many first uses of
// generic types (perf). The price is a little more code.
let cTargets: Set<String> = ["CSystem", "CKernel", "CUnwind"]
for target in package.targets where !cTargets.contains(target.name) {
  target.swiftSettings = (target.swiftSettings ?? []) + [
    .unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"], .when(configuration: .release))
  ]
}

// Fuzz targets (make fuzz, Fuzz/): in the package only when TRACTOR_FUZZ is
// set, so `swift build` and `swift test` never see them; they link only with
// -sanitize=fuzzer and are built in their own scratch path (.build/fuzz).
if Context.environment["TRACTOR_FUZZ"] != nil {
  package.targets += [
    .target(name: "CFuzz", path: "Fuzz/CFuzz"),
    .target(name: "FuzzSupport", dependencies: ["CFuzz"], path: "Fuzz/FuzzSupport"),
    .executableTarget(name: "fuzz-frame", dependencies: ["ActorRuntime", "FuzzSupport"], path: "Fuzz/frame"),
    .executableTarget(name: "fuzz-scenario", dependencies: ["ActorRuntime", "MiniJSON", "FuzzSupport"], path: "Fuzz/scenario"),
    .executableTarget(name: "fuzz-probelog", dependencies: ["Probes", "FuzzSupport"], path: "Fuzz/probelog"),
    .executableTarget(name: "fuzz-procstat", dependencies: ["SystemCore", "FuzzSupport"], path: "Fuzz/procstat"),
    .executableTarget(name: "fuzz-kernel", dependencies: ["CKernel", "KernelEvidence", "FuzzSupport"], path: "Fuzz/kernel"),
  ]
  package.products += ["frame", "scenario", "probelog", "procstat", "kernel"].map {
    .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"])
  }
}
