#!/usr/bin/env bash
# make fuzz: builds the libFuzzer targets (Fuzz/, only in the package when
# TRACTOR_FUZZ is set) with -sanitize=fuzzer,address in their own scratch path,
# then runs each one in turn for FUZZ_SECONDS (default 60) on
# Tests/Fuzz/Corpus/<target>. New inputs go to .build/fuzz/corpus/<target>
# (FUZZ_KEEP=1 merges them, minimised, into Tests/Fuzz/Corpus); a crash, leak
# or timeout is written to .build/fuzz/artifacts/<target>/ and fails the run.
# FUZZ_TARGETS picks targets; FUZZ_RUNS stops each target after that many runs.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-frame scenario probelog procstat kernel}
SCRATCH=.build/fuzz
# Release (-O): about 10x the execs/s of debug. -enable-testing because
# fuzz-kernel reaches KernelEvidence's internal parsers through @testable import.
FLAGS=(-c release -Xswiftc -enable-testing -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld
  -Xcc -fsanitize=fuzzer-no-link,address)

for t in $TARGETS; do
  TRACTOR_FUZZ=1 "$SWIFT" build --scratch-path "$SCRATCH" --product "fuzz-$t" "${FLAGS[@]}" 2>&1 |
    grep -E "error|Build of" || true
  [ -x "$SCRATCH/release/fuzz-$t" ] || { echo "fuzz-$t did not build"; exit 1; }
done

# A crash is libFuzzer's and ASan's to report: Swift's own backtracer would
# trip ASan while reading the crashed process's memory.
export SWIFT_BACKTRACE=enable=no
summary=()
failed=0
for t in $TARGETS; do
  seeds=Tests/Fuzz/Corpus/$t
  work=$SCRATCH/corpus/$t
  artifacts=$SCRATCH/artifacts/$t
  log=$SCRATCH/fuzz-$t.log
  mkdir -p "$work" "$artifacts"
  args=(-max_total_time="$SECONDS_EACH" -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
  echo "fuzz-$t: ${SECONDS_EACH}s on $seeds"
  status=ok
  # ASan's leak check stays on: a leak in the C sock_diag decoder is a finding.
  if ! "$SCRATCH/release/fuzz-$t" "${args[@]}" "$work" "$seeds" >"$log" 2>&1; then
    status="FAILED (see $log and $artifacts/)"
    failed=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  summary+=("$(printf '%-16s %12s runs %8s exec/s  %s' "fuzz-$t" "${runs:-?}" "${rate:-?}" "$status")")
  if [ "${FUZZ_KEEP:-}" = 1 ] && [ "$status" = ok ]; then
    "$SCRATCH/release/fuzz-$t" -merge=1 "$seeds" "$work" >>"$log" 2>&1
  fi
done
printf '%s\n' "${summary[@]}"
exit $failed
