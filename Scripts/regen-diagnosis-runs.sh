#!/usr/bin/env bash
# Regenerates Tests/DiagnosisTests/Runs: stored run directories that the
# process-free diagnosis tests turn into whole verdicts. Each comes from the
# real CLI: one fault of the catalog (fixed backend and depth, timeout 6 s,
# no stacks), a clean run, a run with an unexpected outcome, and kernel
# snapshots of trees in Fixtures/python (watch writes no run directory, so
# those cases are `snapshot --tree --format json` of the same trees while
# they hang, plus the command that started them).
#
# After regenerating, the tests' expected verdicts (pids, names, chains)
# must be updated: run `swift test --filter DiagnosisTests` and read the
# failures. See Tests/DiagnosisTests/Runs/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
T=${TRACTOR_DIAG:-./.build/release/tractor-diag}
[ -x "$T" ] || T=./.build/debug/tractor-diag
[ -x "$T" ] || { echo "build first (swift build)" >&2; exit 1; }
PY=$(command -v python3) || { echo "python3 is needed for the watch cases" >&2; exit 1; }
out=${OUT:-Tests/DiagnosisTests/Runs}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Copies what the verdict reads, nothing else.
keep() {  # keep RUN-DIR NAME
  local src=$1 dst=$out/$2
  rm -rf "$dst"
  mkdir -p "$dst/probes"
  cp "$src"/run.json "$dst"/
  cp "$src"/probes/*.jsonl "$dst"/probes/
  [ -f "$src"/supervisor.json ] && cp "$src"/supervisor.json "$dst"/
  [ -f "$src"/evidence.json ] && cp "$src"/evidence.json "$dst"/
  echo "$2: $(du -sk "$dst" | cut -f1) KB"
}

run() {  # run NAME ARGS...
  local name=$1; shift
  "$T" "$@" --no-stacks --format json --run-dir "$tmp/$name" > "$tmp/$name.verdict.json" 2>/dev/null || true
  keep "$tmp/$name" "$name"
}

# Real trees from the project's venv (.venv/bin/python, `make deps`), and
# the progress samples watch takes (progress.json: pid -> 3 samples 50 ms
# apart of schedstat, stat and each thread's state/syscall/wchan, the fields
# of KernelEvidence.ProgressSample), so busy-loop and working show too.
# `VENV_ONLY=1` regenerates only these.
VPY=.venv/bin/python
sample_progress() {  # sample_progress LEADER OUT
  "$PY" - "$1" "$2" <<'PYEOF'
import json, os, sys, time
def tree(root):
    out, todo = [], [root]
    while todo:
        p = todo.pop(0); out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{t}/children").read().split()]
        except OSError: pass
    return out
def rd(path):
    try: return open(path).read().strip()
    except OSError: return None
def sample(pid):
    st = rd(f"/proc/{pid}/stat")
    if st is None: return None
    f = st[st.rindex(")") + 2:].split()
    sched = (rd(f"/proc/{pid}/schedstat") or "0 0").split()
    threads = []
    for tid in sorted(int(t) for t in os.listdir(f"/proc/{pid}/task")):
        ts = rd(f"/proc/{pid}/task/{tid}/stat") or ") ?"
        sc = rd(f"/proc/{pid}/task/{tid}/syscall") or ""
        nr = "running" if sc.startswith("running") else (sc.split() or ["-"])[0]
        threads.append(f"{tid} {ts[ts.rindex(')') + 2]} {nr} {rd(f'/proc/{pid}/task/{tid}/wchan') or '-'}")
    return {"atNs": time.monotonic_ns(), "onCpuNs": int(sched[0]), "runDelayNs": int(sched[1]),
            "minorFaults": int(f[7]), "threadCount": int(f[17]), "rssPages": int(f[21]),
            "threads": threads, "state": f[0]}
pids = tree(int(sys.argv[1])); out = {}
for i in range(3):
    if i: time.sleep(0.05)
    for p in pids:
        s = sample(p)
        if s: out.setdefault(str(p), []).append(s)
json.dump(out, open(sys.argv[2], "w"))
PYEOF
}
[ -x "$VPY" ] || { echo "$VPY missing: make deps" >&2; exit 1; }
while read -r script wantEdges; do
  name=${script%%.py*}; name=${name// /_}
  dst=$out/watch-$name
  rm -rf "$dst"
  mkdir -p "$dst"
  setsid "$VPY" -W ignore Fixtures/python/$script > "$tmp/$name.out" 2>/dev/null &
  leader=$!
  for _ in $(seq 100); do grep -q ready "$tmp/$name.out" 2>/dev/null && break; sleep 0.1; done
  # Retried until every process is blocked in a call (and, for a tree, an edge shows).
  for _ in $(seq 30); do
    sleep 0.2
    "$T" snapshot "$leader" --tree --no-stacks --format json > "$dst/snapshot.json"
    "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); ok=all(p["blocked"] or p["state"]=="R" for p in d["processes"]) and (sys.argv[2]=="0" or d["edges"]); sys.exit(0 if ok else 1)' "$dst/snapshot.json" "$wantEdges" && break
  done
  sample_progress "$leader" "$dst/progress.json"
  printf '{"command": [".venv/bin/python", "-W", "ignore", "Fixtures/python/%s"], "commandPid": %d, "stillRunning": true}\n' "$script" "$leader" > "$dst/watch.json"
  kill -KILL -- "-$leader" 2>/dev/null || true
  wait "$leader" 2>/dev/null || true
  echo "watch-$name: $(du -sk "$dst" | cut -f1) KB"
done <<'LIST'
asyncio_event.py 1
trio_idle.py 0
trio_tree.py 1
timed_sleep.py 0
mp_spawn_chain.py 1
busy_loop.py 1
working.py 0
LIST
[ -n "${VENV_ONLY:-}" ] && exit 0

# One run per fault of the catalog, on the backend it needs (or spawn).
# eof-spin runs at depth 1: at depth 0 on a loaded host the spinner got
# under half a CPU in the sample and came out unexplained.
while read -r fault backend depth; do
  run "fault-$fault" nested-multierrors --depth "$depth" --backend "$backend" --fault "$fault" --timeout 6
done <<'LIST'
ignore-cancel spawn 0
unbounded-peer-wait forkserver 0
shielded-parent-loop spawn 0
blocking-child-wait fork 0
inherit-fds fork 0
stdio-pipe spawn 0
lost-cancel forkserver 0
never-exit spawn 0
boot-death spawn 0
fork-with-threads fork 0
eof-spin spawn 1
forkserver-serial forkserver 0
LIST

# Outcomes without a fault: clean, a scenario behaviour that hangs, and an
# unexpected outcome (the root raises, the scenario expected no error).
run clean-spawn nested-multierrors --depth 0 --backend spawn --timeout 6
run scenario-ignore-cancel run Fixtures/scenarios/ignore-cancel.json --backend spawn --timeout 6
cat > "$tmp/expect-no-error.json" <<'JSON'
{ "name": "expect-no-error",
  "expect": { "outcome": "clean", "rootError": "none" },
  "root": { "name": "root", "children": [
    { "name": "failer", "behavior": { "kind": "error", "afterMs": 5, "message": "boom" } } ] } }
JSON
run unexpected-root-error run "$tmp/expect-no-error.json" --backend spawn --timeout 6

# Foreign trees: a kernel snapshot while the tree hangs. Each script prints
# "ready" just before its last blocking call; the snapshot is retried until
# it shows a wait edge (the call may not have started yet).
for script in full_pipe leaked_fd pipe_cycle tcp_cycle pidfd_cycle serial_server waitpid_chain; do
  dst=$out/watch-$script
  rm -rf "$dst"
  mkdir -p "$dst"
  setsid "$PY" "Fixtures/python/$script.py" > "$tmp/$script.out" 2>/dev/null &
  leader=$!
  for _ in $(seq 50); do grep -q ready "$tmp/$script.out" 2>/dev/null && break; sleep 0.1; done
  for _ in $(seq 20); do
    "$T" snapshot "$leader" --tree --no-stacks --format json > "$dst/snapshot.json"
    "$PY" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["edges"] else 1)' "$dst/snapshot.json" && break
    sleep 0.1
  done
  printf '{"command": ["python3", "Fixtures/python/%s.py"], "commandPid": %d, "stillRunning": true}\n' "$script" "$leader" > "$dst/watch.json"
  kill -KILL -- "-$leader" 2>/dev/null || true
  wait "$leader" 2>/dev/null || true
  echo "watch-$script: $(du -sk "$dst" | cut -f1) KB"
done

# Foreign trees under the project's venv (make venv): asyncio, multiprocessing
# and tractor. Each is snapshotted once its tree shows the shape it hangs in
# (a Python condition on the snapshot `j`, its edges `e`, `k` = the set of
# edge kinds; `pipes` = pipes some epoll watches, e.g. a multiprocessing
# sentinel, watched only while the parent waits for the child's exit).
VPY=.venv/bin/python
if [ -x "$VPY" ]; then
  while read -r name until script args; do
    dst=$out/watch-$name
    rm -rf "$dst"
    mkdir -p "$dst"
    # shellcheck disable=SC2086
    setsid "$VPY" -W ignore "Fixtures/python/$script.py" $args > "$tmp/$name.out" 2>/dev/null &
    leader=$!
    for _ in $(seq 300); do grep -q ready "$tmp/$name.out" 2>/dev/null && break; sleep 0.1; done
    for _ in $(seq 100); do
      "$T" snapshot "$leader" --tree --no-stacks --format json > "$dst/snapshot.json"
      "$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); e=j["edges"]; k={x["kind"] for x in e}; pipes=[w for p in j["processes"] for f in p["fds"] if f.get("kind")=="epoll" for w in f.get("watched",[]) if w.get("kind")=="pipe"]; sys.exit(0 if ('"$until"') else 1)' "$dst/snapshot.json" && break
      sleep 0.1
    done
    # shellcheck disable=SC2086
    "$PY" -c 'import json,sys; print(json.dumps({"command": [".venv/bin/python", "-W", "ignore", "Fixtures/python/%s.py" % sys.argv[1]] + sys.argv[3:], "commandPid": int(sys.argv[2]), "stillRunning": True}))' \
      "$script" "$leader" $args > "$dst/watch.json"
    kill -KILL -- "-$leader" 2>/dev/null || true
    wait "$leader" 2>/dev/null || true
    echo "watch-$name: $(du -sk "$dst" | cut -f1) KB"
  done <<'LIST'
mutual_socketpair len(e)>=2 mutual_socketpair
mp_spawn_chain "waits-exit-of"in(k)and(len(e)>=5) mp_spawn_chain
mp_forkserver_stall len(e)>=3 mp_forkserver_stall
tractor_teardown_hang-trio "waits-exit-of"in(k)and(len(e)>=3) tractor_teardown_hang --start-method trio
tractor_teardown_hang-spawn len(pipes)>=1 tractor_teardown_hang --start-method spawn
LIST
else
  echo "no .venv (make venv): the venv watch cases were not regenerated" >&2
fi

# A leak: the command exits and leaves a process that started its own
# session (Fixtures/python/escapes.sh does this under watch).
dst=$out/watch-leak-setsid
rm -rf "$dst"
mkdir -p "$dst"
left=$(sh -c 'setsid sleep 3600 > /dev/null 2>&1 & echo $!')
"$T" snapshot "$left" --tree --no-stacks --format json > "$dst/snapshot.json"
printf '{"command": ["sh", "Fixtures/python/escapes.sh"], "commandPid": 0, "stillRunning": false}\n' > "$dst/watch.json"
kill -KILL "$left" 2>/dev/null || true
echo "watch-leak-setsid: $(du -sk "$dst" | cut -f1) KB"

# The probe contract the diagnosis reads (issue 9): a peer wait always says
# its bound (bound=none or bound=<N>ms); no fault-only markers (behavior
# UNCANCELLABLE_WAIT, actor_main TEARDOWN_DONE: the never-exit path writes
# actor_main RETURN and then does not exit). A runtime that still writes the
# old markers gets its lines rewritten here; on the new runtime this is a no-op.
for f in "$out"/*/probes/*.jsonl; do
  sed -i -E \
    -e '/"site":"behavior","ev":"UNCANCELLABLE_WAIT"/d' \
    -e 's/("site":"actor_main","ev":)"TEARDOWN_DONE"/\1"RETURN"/' \
    -e '/"site":"wait_for_no_more_peers","ev":"ENTER"/s/"detail":"no bound"/"detail":"bound=none"/' \
    -e '/"site":"wait_for_no_more_peers","ev":"ENTER"/s/"detail":"bound ([0-9]+) ms"/"detail":"bound=\1ms"/' \
    "$f"
done
echo "done: update the expected verdicts in Tests/DiagnosisTests if pids or shapes changed"
