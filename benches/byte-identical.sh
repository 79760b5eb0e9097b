#!/bin/bash
# Compares the JSON reports of two prefixrace builds on a representative set
# of explorations, each with --jobs 1 and --jobs 2: every report and exit
# code must be byte-identical.
#
#   benches/byte-identical.sh BEFORE_BINARY AFTER_BINARY [PACKAGES_DIR]
#
# PACKAGES_DIR holds pkgs-300.toml and pkgs-1000.toml (one-file packages, as
# written by bench/generate.rs::packages); those runs are skipped without it.
# Prints "N of N identical" and exits 1 on any difference.
set -u
before=$1 after=$2 pkgs=${3:-}
cd "$(dirname "$0")/.."
out=$(mktemp -d)
run() { # NAME ARGS...
  local name=$1; shift
  for bin in before after; do
    for j in 1 2; do
      "${!bin}" explore "$@" --format json --jobs $j > "$out/$bin.$name.j$j.json" 2>/dev/null
      echo $? > "$out/$bin.$name.j$j.rc"
    done
  done
}
run up-staged scenarios/sage-32361-upgrade.toml --strategy staged-copy
run up-direct scenarios/sage-32361-upgrade.toml --strategy direct-install
for s in staged-copy direct-install atomic-rename locked-staged-copy image-then-merge staged-merge; do
  run "s32361-$s" scenarios/sage-32361.toml --strategy "$s"
  run "two-pips-$s" scenarios/two-pips.toml --strategy "$s"
done
for s in direct-install atomic-rename; do
  run "tp33060-$s-r50" scenarios/sage-33060-two-pips.toml --strategy "$s" --scheduler random --schedules 50
  run "tp33060-$s-r50np" scenarios/sage-33060-two-pips.toml --strategy "$s" --scheduler random --schedules 50 --no-pairs
done
for seed in 1 2 3; do
  run "tp33060-auto-s$seed" scenarios/sage-33060-two-pips.toml --strategy direct-install --seed $seed
done
run tp33060-dpor20 scenarios/sage-33060-two-pips.toml --strategy atomic-rename --scheduler dpor --schedules 20
if [ -n "$pkgs" ]; then
  run pkgs1000 "$pkgs/pkgs-1000.toml" --strategy direct-install --schedules 1
  run pkgs300 "$pkgs/pkgs-300.toml" --strategy direct-install --schedules 10
fi
n=0 same=0
for f in "$out"/before.*.json; do
  g=${f/before./after.}
  n=$((n + 1))
  if cmp -s "$f" "$g" && cmp -s "${f%.json}.rc" "${g%.json}.rc"; then
    same=$((same + 1))
  else
    echo "differs: $(basename "${f#*before.}")"
  fi
done
echo "$same of $n identical"
rm -rf "$out"
[ "$same" = "$n" ]
