#!/usr/bin/env bash
# Benchmarks: medians of spawn, teardown, probe and snapshot costs against
# their targets and same-run baselines. Run after `swift build -c release`
# (`make bench` does both). Extra arguments go to `tractor-diag bench`
# (--runs N, --quick, --format json). Always exits 0 unless the tool is missing
# or interrupted: benchmarks report, they do not fail the build.
set -euo pipefail
cd "$(dirname "$0")/.."
exe=.build/release/tractor-diag
if [[ ! -x "$exe" ]]; then
  echo "bench.sh: $exe not found; run 'swift build -c release' (or 'make bench')" >&2
  exit 1
fi
exec "$exe" bench "$@"
