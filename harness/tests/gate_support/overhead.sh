#!/bin/bash
# The gate's overhead (BENCHMARKS.md, "Real processes under the gate"):
# per pair of commands, the bare concurrent run (sh -c 'A & B; wait') next to
# gated executions, and the cost per gated syscall.
#   overhead.sh PREFIXRACE STAGE40 CYTHON_STAGE MARKUPSAFE_WHEEL
set -eu
PR=$1; S40=$2; SCY=$3; W=$4
PY=$(python3 -c 'import sys; print(sys.executable)')
N=${N:-10}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
now() { date +%s.%N; }
pair() { # name A B [run options...]
  local name=$1 a=$2 b=$3; shift 3
  local p="$work/p"; rm -rf "$p"; mkdir "$p"
  export PREFIX=$p STAGE=${STAGE_DIR:-}
  local t0 t1 i
  t0=$(now)
  for i in $(seq 1 "$N"); do
    rm -rf "$p"; mkdir "$p"
    sh -c "($a) >/dev/null 2>&1 & ($b) >/dev/null 2>&1; wait" || true
  done
  t1=$(now)
  local bare; bare=$(echo "($t1 - $t0) / $N" | bc -l)
  rm -rf "$p"; mkdir "$p"
  local one many
  t0=$(now); "$PR" run --prefix "$p" "$@" --executions 1 -- "$a" -- "$b" >/dev/null || true; t1=$(now)
  one=$(echo "$t1 - $t0" | bc -l)
  t0=$(now); "$PR" run --prefix "$p" "$@" --executions $((N + 1)) --trace -- "$a" -- "$b" > "$work/trace" || true; t1=$(now)
  many=$(echo "$t1 - $t0" | bc -l)
  local steps; steps=$(grep -c '^  \[' "$work/trace")
  local per; per=$(echo "($many - $one) / $N" | bc -l)
  local spe; spe=$(echo "$steps / ($N + 1)" | bc -l)
  printf '%s: bare %.3f s, gated %.3f s per execution (%.2f executions/s), %.0f gated syscalls, %.1f us per gated syscall over bare\n' \
    "$name" "$bare" "$per" "$(echo "1 / $per" | bc -l)" "$spe" "$(echo "($per - $bare) / $spe * 1000000" | bc -l)"
}
STAGE_DIR=$S40 pair "cp 40 modules vs import M" 'exec cp -Rp "$STAGE/." "$PREFIX"' \
  "PYTHONPATH=\$PREFIX exec $PY -c 'import M'" --stage "$S40"
STAGE_DIR=$SCY pair "cp Cython 3.0.11 vs import Cython" 'exec cp -Rp "$STAGE/." "$PREFIX"' \
  "PYTHONPATH=\$PREFIX/lib/python3.11/site-packages $PY -c 'import Cython' 2>/dev/null; exit 0" --stage "$SCY" --volatile '**/RECORD'
PIP="$PY -m pip install -q --no-deps --no-index --isolated --disable-pip-version-check --prefix \"\$PREFIX\" $W"
pair "pip MarkupSafe vs import markupsafe" "$PIP" \
  "PYTHONPATH=\$PREFIX/lib/python3.11/site-packages $PY -c 'import markupsafe' 2>/dev/null; exit 0" --volatile '**/RECORD'
pair "pip vs pip MarkupSafe" "$PIP" "$PIP" --volatile '**/RECORD'
