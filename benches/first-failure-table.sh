#!/usr/bin/env bash
# Executions to the first failure, per scenario, strategy and scheduler.
#
#   benches/first-failure-table.sh [SEED] [BUDGET] [DPOR_BUDGET] [SCENARIO...]
#
# Runs `prefixrace explore SCENARIO --strategy S --scheduler K --seed SEED
# --no-pairs --format json` for every scenario (default: scenarios/*.toml),
# every strategy of the scenario (the six built-in ones and any it declares)
# and K in auto, directed, random, pct, dpor; prints one markdown row per
# scenario and strategy: the 1-based execution of the first failure under
# each scheduler, `-` when none was found within the budget (BUDGET, default
# 1000; DPOR_BUDGET for dpor, default 200), `pass` when auto proved the
# absence (its dpor part ended). Strategies whose serial run fails are left out.
set -euo pipefail
seed=${1:-1}
budget=${2:-1000}
dpor_budget=${3:-200}
shift $(( $# > 3 ? 3 : $# ))
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
(cd "$root" && cargo build --release --quiet -p prefixrace)
P="$target/release/prefixrace"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=("$root"/scenarios/*.toml)
echo "# $(date -u +%FT%TZ) seed=$seed budget=$budget dpor-budget=$dpor_budget"
echo "| scenario | strategy | auto | directed | random | pct | dpor |"
echo "|---|---|---|---|---|---|---|"
for sc in "${scenarios[@]}"; do
  strategies=$("$P" explore "$sc" --strategy all --scheduler serial --format json --no-pairs \
    | python3 -c 'import json,sys; print(" ".join(r["strategy"] for r in json.load(sys.stdin)["strategies"] if r["verdict"] != "error"))' || true)
  for st in $strategies; do
    row="| $(basename "$sc" .toml) | $st |"
    for k in auto directed random pct dpor; do
      b=$budget; [ "$k" = dpor ] && b=$dpor_budget
      cell=$( ("$P" explore "$sc" --strategy "$st" --scheduler "$k" --seed "$seed" --schedules "$b" \
          --no-pairs --no-shrink --format json 2>/dev/null || true) \
        | python3 -c '
import json, sys
r = json.load(sys.stdin)
f = r.get("first_failure")
if f: print(f["execution"])
elif r["verdict"] == "pass" and r["coverage"]["complete"]: print("pass (proved)")
else: print("-")')
      row="$row $cell |"
    done
    echo "$row"
  done
done
