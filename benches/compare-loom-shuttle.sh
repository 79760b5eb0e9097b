#!/usr/bin/env bash
# Exploration speed of prefixrace side by side with loom and shuttle, in one run.
#
#   benches/compare-loom-shuttle.sh [ANCHOR_DIR]
#
# ANCHOR_DIR (default: ../shared/anchors/loom-shuttle beside the repository, or
# $ANCHOR_DIR) is the standalone loom/shuttle anchor project: a 540-step `cp`
# model racing a 3-step importer (the Cython-sized tree of SageMath #32361).
# It is copied to a temporary directory and built there (its target dir is
# cached under target/loom-shuttle-anchor); this repository does not depend on it.
#
# Then, alternating tools so they see the same machine load:
#   shuttle random and PCT(3) on the cython model, SEEDS seeds, to the first failure;
#   loom with LOOM_MAX_PREEMPTIONS=2 to the failure, and unbounded for LOOM_LIMIT s;
#   prefixrace explore builtin:sage-32361 and builtin:sage-32361-upgrade (the
#   anchor's one-step window): staged-copy to the first failure for SEEDS seeds
#   (random, pct:3) and once with dpor, and direct-install for a fixed budget
#   (steady rate) under random, pct:3 and dpor on the model filesystem, plus a
#   short real-filesystem run, and sage-32361-upgrade staged-copy random for
#   STEADY_BUDGET executions in one process (the anchor's shape, steady), with
#   conflicting pairs counted and with --no-pairs.
# Prints one line per measurement: tool, configuration, executions, seconds,
# executions/s. Takes about 1-2 minutes after the builds.
set -euo pipefail

SEEDS=${SEEDS:-20}
LOOM_LIMIT=${LOOM_LIMIT:-10}
BUDGET=${BUDGET:-2000}
FAIL_BUDGET=${FAIL_BUDGET:-2000}
STEADY_BUDGET=${STEADY_BUDGET:-20000}
root=$(cd "$(dirname "$0")/.." && pwd)
anchor=${1:-${ANCHOR_DIR:-$root/../shared/anchors/loom-shuttle}}
target=${CARGO_TARGET_DIR:-$root/target}

command -v python3 >/dev/null || { echo "compare-loom-shuttle.sh: python3 is needed to read JSON" >&2; exit 2; }
[ -f "$anchor/Cargo.toml" ] || { echo "compare-loom-shuttle.sh: no anchor project at $anchor" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$anchor" "$work/anchor"
chmod -R u+w "$work/anchor"
rm -rf "$work/anchor/target" "$work/anchor/results"

echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg) cores: $(nproc)"
echo "# building the anchor (loom, shuttle) from a copy of $anchor"
B=""
if (cd "$work/anchor" && CARGO_TARGET_DIR="$target/loom-shuttle-anchor" cargo build --release --quiet); then
  B="$target/loom-shuttle-anchor/release/loom_shuttle_anchor"
else
  echo "# the anchor project did not build (offline, or a registry problem): measuring prefixrace only"
fi
echo "# building prefixrace"
(cd "$root" && cargo build --release --quiet -p prefixrace)
P="$target/release/prefixrace"

unset LOOM_MAX_PREEMPTIONS LOOM_MAX_BRANCHES LOOM_MAX_PERMUTATIONS LOOM_MAX_DURATION SHUTTLE_RANDOM_SEED

# The anchor prints key=value lines; turn one into "executions seconds".
anchor_line() {
  python3 -c '
import sys
kv = dict(w.split("=", 1) for w in sys.stdin.read().split() if "=" in w)
iters = kv.get("total_iters") or kv.get("iterations") or kv.get("iters") or "?"
wall = kv.get("wall_s_median", "?")
rate = kv.get("iter_per_wall_s", "?")
extra = " ".join(f"{k}={kv[k]}" for k in ("found", "iters_median", "timed_out") if k in kv)
print(f"executions={iters} seconds={wall} executions_per_s={rate} {extra}".rstrip())
'
}

# prefixrace explore, JSON; prints "executions seconds verdict ops". Reports
# carry no wall time (they are byte-identical across runs), so the process is
# timed from outside: the seconds include startup and loading the scenario.
prefixrace_line() {
  python3 - "$P" explore "$@" --jobs 1 --format json <<'PY' || true
import json, subprocess, sys, time
start = time.monotonic()
out = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, check=False).stdout
secs = time.monotonic() - start
r = json.loads(out)
rows = r["rows"] if "rows" in r else [r]
ex = sum(x["executions"] for x in rows)
ops = sum(x["ops_executed"] for x in rows)
print(ex, secs, r.get("verdict", "?"), ops)
PY
}

# staged-copy to the first failure over SEEDS seeds: total executions / total time.
prefixrace_to_failure() {
  local scenario=$1 sched=$2 ex=0 secs=0 found=0 ops=0 e t v o seed
  for seed in $(seq 1 "$SEEDS"); do
    read -r e t v o < <(prefixrace_line "builtin:$scenario" --strategy staged-copy --scheduler "$sched" --seed "$seed" --schedules "$FAIL_BUDGET")
    ex=$((ex + e)); ops=$((ops + o))
    secs=$(python3 -c "print($secs + $t)")
    [ "$v" = fail ] && found=$((found + 1))
  done
  python3 -c "
ex, secs = $ex, $secs
print(f'prefixrace {\"$scenario\"} staged-copy $sched to-failure seeds=$SEEDS found=$found executions={ex} seconds={secs:.3f} executions_per_s={ex / secs if secs else 0:.0f} ops_per_execution={$ops / ex if ex else 0:.0f}')"
}

# dpor is deterministic (no seed): one exploration to the first failure.
prefixrace_dpor_to_failure() {
  local scenario=$1 e t v o
  read -r e t v o < <(prefixrace_line "builtin:$scenario" --strategy staged-copy --scheduler dpor)
  python3 -c "print(f'prefixrace $scenario staged-copy dpor to-failure verdict=$v executions=$e seconds=$t ops_per_execution={$o / $e if $e else 0:.0f}')"
}

# A fixed budget in one process; extra arguments go to explore (--no-pairs).
prefixrace_steady() {
  local scenario=$1 sched=$2 fs=$3 budget=$4 strategy=${5:-direct-install} e t v o
  shift $(( $# < 5 ? $# : 5 ))
  read -r e t v o < <(prefixrace_line "builtin:$scenario" --strategy "$strategy" --scheduler "$sched" --seed 1 --schedules "$budget" --fs "$fs" "$@")
  python3 -c "print(f'prefixrace $scenario $strategy $sched fs=$fs steady $* verdict=$v executions=$e seconds=$t executions_per_s={$e / $t if $t else 0:.1f} ops_per_execution={$o / $e if $e else 0:.0f}')"
}

scenarios="sage-32361 sage-32361-upgrade"

for round in 1 2; do
  echo "# round $round"
  if [ -n "$B" ]; then
    echo "shuttle cython random to-failure seeds=$SEEDS $("$B" shuttle random cython --seeds "$SEEDS" --reps 1 2>/dev/null | anchor_line)"
  fi
  for scn in $scenarios; do prefixrace_to_failure "$scn" random; done
  if [ -n "$B" ]; then
    echo "shuttle cython pct3 to-failure seeds=$SEEDS $("$B" shuttle pct3 cython --seeds "$SEEDS" --reps 1 2>/dev/null | anchor_line)"
  fi
  for scn in $scenarios; do prefixrace_to_failure "$scn" pct:3; done
  for scn in $scenarios; do prefixrace_dpor_to_failure "$scn"; done
  if [ -n "$B" ]; then
    echo "loom cython LOOM_MAX_PREEMPTIONS=2 to-failure $(LOOM_MAX_PREEMPTIONS=2 "$B" loom cython --reps 1 --limit 300 2>/dev/null | anchor_line)"
    echo "loom cython unbounded limit=${LOOM_LIMIT}s $("$B" loom cython --reps 1 --limit "$LOOM_LIMIT" 2>/dev/null | anchor_line)"
  fi
  # The anchor's shape in one long process: the one-step window under
  # staged copy, which random sampling does not hit, so it runs its budget.
  # With pair counting (the CLI's default) every execution records its
  # events and runs; with --no-pairs most are decided from the state graph.
  prefixrace_steady sage-32361-upgrade random model "$STEADY_BUDGET" staged-copy
  prefixrace_steady sage-32361-upgrade random model "$STEADY_BUDGET" staged-copy --no-pairs
  for scn in $scenarios; do
    prefixrace_steady "$scn" random model "$BUDGET"
    prefixrace_steady "$scn" pct:3 model "$BUDGET"
    prefixrace_steady "$scn" dpor model "$BUDGET"
  done
done
for scn in $scenarios; do prefixrace_steady "$scn" random real 3; done
echo "# end $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
