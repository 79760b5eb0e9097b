#!/usr/bin/env bash
# The mutation run of issue 16: each mutant is one textual change, applied in
# a scratch worktree, built and tested with the tests named below; the
# failing tests are the mutant's killers.
set -u
WT=${1:?usage: mutation-run.sh WORKTREE [OUT]}
OUT=${2:-$WT/target/mutation-run}
mkdir -p "$OUT"
TESTS=(--lib --test install_semantics --test oracle_tree --test dpor --test dpor_optimal --test merge_cli --test strategies --test strategies_cli --test cli --test snapshots --test pins_cp --test pins_python --test properties --test directed --test state_graph --test tail_reuse --test loom_crosscheck --test shrink)
# name|file|perl substitution
MUTANTS=(
 'cp-tolerates-mkdir-eexist|harness/src/job/cp.rs|s/Err\(Errno::EEXIST\) if self\.plan\.on_exist != CpOnExist::Fail =>/Err(Errno::EEXIST) =>/'
 'pip-never-reports-an-oserror|harness/src/job/pip.rs|s/(fn abort\(&mut self, errno: Errno, path: &str\) \{)/$1\n        if true { return; }/'
 'importer-gives-up-on-pycache-eexist|harness/src/job/import.rs|s/Ok\(_\) \| Err\(Errno::EEXIST\) => match rest\.pop\(\)/Ok(_) => match rest.pop()/'
 'oracle-never-compares-trees|harness/src/oracle.rs|s/\} else if !diff\.is_empty\(\) \{/} else if !diff.is_empty() \&\& false {/'
 'dpor-reads-commute-with-writes|harness/src/schedule/dependence.rs|s/if !a_mutates && !b_mutates \{/if !a_mutates || !b_mutates {/'
 'shrink-keeps-any-failure|harness/src/shrink.rs|s/\.is_some_and\(\|k\| same_failure\(kind, k, original, &trace\)\)/.is_some_and(|_k| true)/'
 'merge-passes-a-failed-shard|harness/src/merge.rs|s/\(Some\(_\), _\) => "fail",/(Some(_), _) => "pass",/'
)
cd "$WT"
for m in "${MUTANTS[@]}"; do
  IFS='|' read -r name file subst <<<"$m"
  git checkout -q -- .
  perl -0pi -e "$subst" "$file"
  if git diff --quiet; then echo "$name: NOT APPLIED" | tee "$OUT/$name.txt"; continue; fi
  git diff > "$OUT/$name.diff"
  start=$(date -u +%H:%M:%S)
  cargo test -p prefixrace --no-fail-fast "${TESTS[@]}" > "$OUT/$name.log" 2>&1
  rc=$?
  killers=$(grep -E '^test .* FAILED$|^    [a-z_:]+$' "$OUT/$name.log" | grep -E ' FAILED$' | sed 's/^test //; s/ \.\.\. FAILED$//' | sort -u)
  bins=$(grep -E '^error: test failed, to rerun pass' "$OUT/$name.log" | sed 's/.*pass `//; s/`$//' | sort -u | tr '\n' ' ')
  { echo "$name: rc=$rc start=$start end=$(date -u +%H:%M:%S)"; echo "binaries: $bins"; echo "$killers"; } > "$OUT/$name.txt"
  cat "$OUT/$name.txt" | head -3
done
git checkout -q -- .
