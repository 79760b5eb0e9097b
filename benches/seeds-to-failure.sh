#!/usr/bin/env bash
# Executions to the first failure over many seeds, and their median.
#
#   benches/seeds-to-failure.sh SCENARIO [STRATEGY] [SCHEDULER] [SEEDS] [BUDGET]
#
# Runs `prefixrace explore SCENARIO --strategy STRATEGY --scheduler SCHEDULER
# --seed S --schedules BUDGET --format json` for S = 1..SEEDS (defaults:
# staged-copy, random, 100, 1000) and prints one line per seed, then the
# median of the failing execution's index. A seed that finds nothing within
# BUDGET counts as "more than BUDGET" (it sorts above every finding seed), so
# the median is a number only when more than half of the seeds found the race.
set -euo pipefail

scenario=${1:?usage: seeds-to-failure.sh SCENARIO [STRATEGY] [SCHEDULER] [SEEDS] [BUDGET]}
strategy=${2:-staged-copy}
scheduler=${3:-random}
seeds=${4:-100}
budget=${5:-1000}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
command -v python3 >/dev/null || { echo "seeds-to-failure.sh: python3 is needed to read JSON" >&2; exit 2; }
(cd "$root" && cargo build --release --quiet -p prefixrace)
P="$target/release/prefixrace"

echo "# $(date -u +%FT%TZ) $scenario $strategy $scheduler seeds=1..$seeds budget=$budget"
for seed in $(seq 1 "$seeds"); do
  "$P" explore "$scenario" --strategy "$strategy" --scheduler "$scheduler" \
    --seed "$seed" --schedules "$budget" --format json || [ $? -eq 1 ]
done | python3 -c '
import json, sys
budget = int(sys.argv[1])
text = sys.stdin.read()
decoder, i, found = json.JSONDecoder(), 0, []
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i == len(text):
        break
    report, i = decoder.raw_decode(text, i)
    failure = report.get("first_failure")
    index = failure["execution"] if failure else None
    seed, runs = report["seed"], report["executions"]
    print(f"seed {seed}: " + (f"failure at execution {index}" if index else f"none in {runs}"))
    found.append(index if index else budget + 1)
found.sort()
median = found[len(found) // 2] if found else None
hits = sum(1 for x in found if x <= budget)
if median is None or median > budget:
    print(f"median: none (more than {budget}); {hits} of {len(found)} seeds found the race")
else:
    print(f"median: {median} executions; {hits} of {len(found)} seeds found the race")
' "$budget"
