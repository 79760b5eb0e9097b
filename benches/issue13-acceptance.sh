#!/usr/bin/env bash
# Issue 13's acceptance figures on one build, in one run (BENCHMARKS.md,
# "The issue's acceptance, as run", at the end of §9):
#
#   benches/issue13-acceptance.sh [ANCHOR_DIR]
#
# auto on the two-pip race (seeds 1-5), a capped dpor's verdict, dpor per
# execution, pairs against --no-pairs on direct-install, 1,000 one-file
# packages, peak RSS at 10,000 executions, then benches/cost-per-op.sh
# (ROUNDS=6) beside shuttle. PREFIXRACE=path measures another build.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ -z "${PREFIXRACE:-}" ]; then
  cargo build --release --quiet -p prefixrace || exit 2
  PREFIXRACE="${CARGO_TARGET_DIR:-$root/target}/release/prefixrace"
fi
B=$PREFIXRACE
S=scenarios/sage-33060-two-pips.toml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
t() { /usr/bin/time -f "%e s wall, %U+%S s cpu, %M KB" "$@"; }
first_failure() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_failure"]["execution"])' "$1"; }
verdict() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' "$1"; }

echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) load $(cut -d' ' -f1-3 /proc/loadavg) cores $(nproc)"
echo "## auto, seeds 1-5"
for seed in 1 2 3 4 5; do
  "$B" explore "$S" --strategy direct-install --seed "$seed" --format json > "$work/a.json"
  echo "seed $seed exit=$? first_failure=$(first_failure "$work/a.json")"
done
echo "## dpor capped at 200"
"$B" explore "$S" --strategy direct-install --scheduler dpor --schedules 200 --format json > "$work/a.json"
echo "exit=$? verdict=$(verdict "$work/a.json")"
"$B" explore "$S" --strategy direct-install --scheduler dpor --schedules 200 --require-complete --format json > /dev/null 2>&1
echo "--require-complete exit=$?"
echo "## dpor, 1,000 executions, --no-pairs"
for _ in 1 2 3; do
  t "$B" explore "$S" --strategy direct-install --scheduler dpor --schedules 1000 --no-pairs --no-shrink --jobs 1 2>&1 >/dev/null | tail -1
done
echo "## pairs vs --no-pairs, direct-install, random, 50 executions (alternating)"
for _ in 1 2 3 4 5; do
  echo "pairs:    $(t "$B" explore "$S" --strategy direct-install --scheduler random --schedules 50 --no-shrink --jobs 1 2>&1 >/dev/null | tail -1)"
  echo "no-pairs: $(t "$B" explore "$S" --strategy direct-install --scheduler random --schedules 50 --no-shrink --jobs 1 --no-pairs 2>&1 >/dev/null | tail -1)"
done
echo "## 1,000 one-file packages, one execution"
{
  printf 'name = "packages-1000"\ndescription = "1000 one-file packages"\nprefix = "/sage/local"\n'
  printf 'site-packages = "lib/python3.9/site-packages"\npython-tag = "cpython-39"\n'
  for i in $(seq 1 1000); do
    printf '\n[[package]]\nname = "p%d"\nversion = "1.0"\n\n[[package.file]]\npath = "p%d/__init__.py"\ntext = "x = 1\\n"\n' "$i" "$i"
  done
} > "$work/pkgs-1000.toml"
for _ in 1 2 3; do
  t "$B" explore "$work/pkgs-1000.toml" --strategy direct-install --scheduler random --schedules 1 --no-pairs --no-shrink --jobs 1 2>&1 >/dev/null | tail -1
done
echo "## peak RSS at 10,000 executions (atomic-rename, random, --no-pairs, default --jobs)"
t "$B" explore "$S" --strategy atomic-rename --scheduler random --schedules 10000 --no-pairs --no-shrink 2>&1 >/dev/null | tail -1
echo "## cost per op beside shuttle"
ROUNDS=${ROUNDS:-6} PAIRS_BUDGET=${PAIRS_BUDGET:-50} PREFIXRACE="$B" benches/cost-per-op.sh "$@"
echo "# end $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg)"
