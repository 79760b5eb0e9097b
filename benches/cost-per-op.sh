#!/usr/bin/env bash
# Cost per op at scale (issue 13, part 3), side by side with shuttle in one run.
#
#   benches/cost-per-op.sh [ANCHOR_DIR]
#
# Alternating tools for ROUNDS rounds so they see the same machine load:
#   shuttle's random scheduler on the anchor's 543-step Cython model
#   (SEEDS seeds to the first failure; steps/s = iterations/s x 543), and
#   prefixrace explore scenarios/sage-33060-two-pips.toml --strategy atomic-rename
#   --scheduler random --schedules BUDGET --no-pairs --no-shrink --jobs 1 (two long
#   pips, ~6,900 ops per execution: full re-execution, the memo layers off by their
#   own judgement). The scheduler is named: explore's default, auto, is a portfolio
#   with dpor in it, and what is measured here is full re-execution under random,
#   timed and its peak RSS taken by /usr/bin/time -f '%e %M'; then once with
#   pair counting (the CLI default) at PAIRS_BUDGET.
# Prints one line per measurement and the ratio prefixrace ops/s : shuttle steps/s,
# per wall-clock second and per CPU second (user+sys of the process: shuttle's
# own iter_per_cpu_s, and /usr/bin/time's %U+%S for prefixrace). On a loaded
# machine a process waits for a core for a share of its wall time that swings
# from one run to the next; its CPU time swings far less, so the CPU ratio is
# the one that says whether a change paid.
# ANCHOR_DIR defaults like benches/compare-loom-shuttle.sh; without it (or when
# it does not build) prefixrace alone is measured. PREFIXRACE=path measures
# another build of prefixrace (for before/after); BEFORE=path also measures
# that build in every round, right after the other (alternating
# shuttle, before, after), and prints after/before.
set -euo pipefail

ROUNDS=${ROUNDS:-3}
SEEDS=${SEEDS:-20}
BUDGET=${BUDGET:-1000}
PAIRS_BUDGET=${PAIRS_BUDGET:-100}
STEPS=543
root=$(cd "$(dirname "$0")/.." && pwd)
anchor=${1:-${ANCHOR_DIR:-$root/../shared/anchors/loom-shuttle}}
target=${CARGO_TARGET_DIR:-$root/target}

echo "# $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg) cores: $(nproc)"
B=""
if [ -f "$anchor/Cargo.toml" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp -r "$anchor" "$work/anchor"
  chmod -R u+w "$work/anchor"
  rm -rf "$work/anchor/target" "$work/anchor/results"
  if (cd "$work/anchor" && CARGO_TARGET_DIR="$target/loom-shuttle-anchor" cargo build --release --quiet); then
    B="$target/loom-shuttle-anchor/release/loom_shuttle_anchor"
  fi
fi
[ -n "$B" ] || echo "# no shuttle anchor: measuring prefixrace only"
if [ -z "${PREFIXRACE:-}" ]; then
  (cd "$root" && cargo build --release --quiet -p prefixrace)
  PREFIXRACE="$target/release/prefixrace"
fi
scenario="$root/scenarios/sage-33060-two-pips.toml"

prefixrace_run() { # budget extra-args... -> "seconds rss_kb ops cpu_seconds" (of $BIN, default $PREFIXRACE)
  local budget=$1; shift
  local out
  out=$( { /usr/bin/time -f 'TIME %e %M %U %S' "${BIN:-$PREFIXRACE}" explore "$scenario" --strategy atomic-rename \
      --scheduler random --schedules "$budget" --no-shrink --jobs 1 "$@" ; } 2>&1 )
  local ops secs rss user sys
  # explore prints counts with thousands separators (6,915,000).
  ops=$(sed -n 's/^explored: [0-9,]* executions, \([0-9,]*\) ops.*/\1/p' <<<"$out" | tr -d ,)
  read -r secs rss user sys < <(sed -n 's/^TIME //p' <<<"$out")
  echo "$secs $rss $ops $(python3 -c "print(f'{$user + $sys:.2f}')")"
}

for round in $(seq 1 "$ROUNDS"); do
  shuttle=""
  shuttle_cpu=""
  if [ -n "$B" ]; then
    line=$("$B" shuttle random cython --seeds "$SEEDS" --reps 1 2>/dev/null)
    rate=$(tr ' ' '\n' <<<"$line" | sed -n 's/^iter_per_wall_s=//p')
    shuttle=$(python3 -c "print(round($rate * $STEPS))")
    cpu_rate=$(tr ' ' '\n' <<<"$line" | sed -n 's/^iter_per_cpu_s=//p')
    shuttle_cpu=$(python3 -c "print(round($cpu_rate * $STEPS))")
    echo "round $round shuttle random cython seeds=$SEEDS iterations_per_s=$rate steps_per_s=$shuttle steps_per_cpu_s=$shuttle_cpu"
  fi
  before=""
  if [ -n "${BEFORE:-}" ]; then
    read -r secs rss ops cpu < <(BIN="$BEFORE" prefixrace_run "$BUDGET" --no-pairs)
    before=$(python3 -c "print(round($ops / $secs))")
    before_cpu=$(python3 -c "print(round($ops / $cpu))")
    ratio=$([ -n "$shuttle" ] && python3 -c "print(f'{$before / $shuttle:.2f}')" || echo "-")
    cpu_ratio=$([ -n "$shuttle" ] && python3 -c "print(f'{$before_cpu / $shuttle_cpu:.2f}')" || echo "-")
    echo "round $round before sage-33060 atomic-rename --no-pairs executions=$BUDGET ops=$ops seconds=$secs ops_per_s=$before cpu_seconds=$cpu ops_per_cpu_s=$before_cpu peak_rss_kb=$rss before/shuttle=$ratio cpu:before/shuttle=$cpu_ratio"
  fi
  read -r secs rss ops cpu < <(prefixrace_run "$BUDGET" --no-pairs)
  pr=$(python3 -c "print(round($ops / $secs))")
  pr_cpu=$(python3 -c "print(round($ops / $cpu))")
  ratio=$([ -n "$shuttle" ] && python3 -c "print(f'{$pr / $shuttle:.2f}')" || echo "-")
  cpu_ratio=$([ -n "$shuttle" ] && python3 -c "print(f'{$pr_cpu / $shuttle_cpu:.2f}')" || echo "-")
  gain=$([ -n "$before" ] && python3 -c "print(f' after/before={$pr / $before:.2f} cpu:after/before={$pr_cpu / $before_cpu:.2f}')" || true)
  echo "round $round prefixrace sage-33060 atomic-rename --no-pairs executions=$BUDGET ops=$ops seconds=$secs ops_per_s=$pr cpu_seconds=$cpu ops_per_cpu_s=$pr_cpu peak_rss_kb=$rss prefixrace/shuttle=$ratio cpu:prefixrace/shuttle=$cpu_ratio$gain"
done
read -r secs rss ops _ < <(prefixrace_run "$PAIRS_BUDGET" --no-pairs)
read -r psecs prss pops _ < <(prefixrace_run "$PAIRS_BUDGET")
echo "pairs executions=$PAIRS_BUDGET no-pairs seconds=$secs rss_kb=$rss; pairs seconds=$psecs rss_kb=$prss; pairs/no-pairs time=$(python3 -c "print(f'{$psecs / $secs:.2f}')")"
echo "# end $(date -u +%FT%TZ) load: $(cut -d' ' -f1-3 /proc/loadavg)"
