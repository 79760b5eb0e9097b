#!/usr/bin/env bash
# The CI job: install what the tests need, then run the README's test commands.
set -euo pipefail
cd "$(dirname "$0")/.."

# strace and python3 are needed by the fidelity tests (real cp, real python3).
if ! command -v strace >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && apt-get install -y -qq strace) || echo "ci: could not install strace" >&2
    fi
fi
# In CI the fidelity pins against the real tools must run, not skip.
if [ "${CI:-}" = true ] && ! command -v strace >/dev/null 2>&1; then
    echo "ci: strace is missing, so the fidelity pins against real cp and python3 cannot run" >&2
    exit 1
fi
command -v python3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3; }
# pypa/installer, for the pins of the `installer` strategy (tests/pins_installer.rs).
python3 -c "import installer" 2>/dev/null || python3 -m pip install -q installer >/dev/null 2>&1 || echo "ci: could not install pypa/installer" >&2
if [ "${CI:-}" = true ] && ! python3 -c "import installer" 2>/dev/null; then
    echo "ci: pypa/installer is missing, so the pins of the installer strategy cannot run" >&2
    exit 1
fi
# node, for the pins of the kit's Node wording (tests/pins_voices.rs).
command -v node >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nodejs; } || echo "ci: could not install node" >&2
if [ "${CI:-}" = true ] && ! command -v node >/dev/null 2>&1; then
    echo "ci: node is missing, so the pins of the kit's Node wording cannot run" >&2
    exit 1
fi
# npm, for the pins of npm's reify (tests/pins_npm.rs).
command -v npm >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq npm; } || echo "ci: could not install npm" >&2
if [ "${CI:-}" = true ] && ! command -v npm >/dev/null 2>&1; then
    echo "ci: npm is missing, so the pins of npm's reify cannot run" >&2
    exit 1
fi
# uv, for the gate's uv-vs-python3 determinism check (tests/gate_determinism.rs).
if ! command -v uv >/dev/null 2>&1; then
    python3 -m pip install -q uv >/dev/null 2>&1 || echo "ci: could not install uv" >&2
    command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
    hash -r
fi

export CARGO_TERM_COLOR=never
cargo --version

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
# The library's documentation: every intra-doc link resolves and none points at a private item.
RUSTDOCFLAGS="-D warnings" cargo doc -q -p prefixrace --no-deps

echo "== tests"
cargo test --workspace

echo "== a fresh user crate outside the workspace: Check's acceptance tests in a default debug build"
bash ci/external-crate.sh

echo "== loom cross-check (its own target dir: --cfg loom rebuilds everything)"
RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=target/loom cargo test --release -p prefixrace --test loom_crosscheck

echo "== acceptance, release build"
cargo build --release
set +e
./target/release/prefixrace explore scenarios/sage-32361.toml --strategy staged-copy --seed 1 > /tmp/prefixrace-staged.txt
staged=$?
./target/release/prefixrace explore scenarios/sage-32361.toml --strategy direct-install --schedules 10000 > /tmp/prefixrace-direct.txt
direct=$?
set -e
cat /tmp/prefixrace-staged.txt /tmp/prefixrace-direct.txt
[ "$staged" -eq 1 ] || { echo "ci: staged-copy should exit 1, got $staged" >&2; exit 1; }
[ "$direct" -eq 0 ] || { echo "ci: direct-install should exit 0, got $direct" >&2; exit 1; }
grep -q "cp: cannot create directory '/sage/local/./lib/python3.9/site-packages/Cython/__pycache__': File exists" /tmp/prefixrace-staged.txt
# dpor: the race within 3 executions in both windows; absence proved for direct-install.
for s in sage-32361 sage-32361-upgrade; do
    set +e
    ./target/release/prefixrace explore "scenarios/$s.toml" --strategy staged-copy --scheduler dpor --format json > /tmp/prefixrace-dpor.json
    code=$?
    set -e
    [ "$code" -eq 1 ] || { echo "ci: dpor on $s should exit 1, got $code" >&2; exit 1; }
    python3 -c 'import json,sys; e=json.load(open("/tmp/prefixrace-dpor.json"))["first_failure"]["execution"]; print(sys.argv[1], "first failure at execution", e); sys.exit(e > 3)' "$s"
done
./target/release/prefixrace explore scenarios/sage-32361.toml --strategy direct-install --scheduler dpor --format json > /tmp/prefixrace-dpor.json
python3 -c 'import json,sys; r=json.load(open("/tmp/prefixrace-dpor.json")); c=r["coverage"]; print("direct-install dpor:", c["classes"], "classes,", "complete" if c["complete"] else "INCOMPLETE"); sys.exit(not c["complete"] or r["schema"] != "prefixrace-report/1")'
# auto, the default: the two-pip race of SageMath 33060 within 10 executions, seeds 1-5.
for seed in 1 2 3 4 5; do
    set +e
    ./target/release/prefixrace explore scenarios/sage-33060-two-pips.toml --strategy direct-install --seed "$seed" --no-pairs --format json > /tmp/prefixrace-auto.json
    code=$?
    set -e
    [ "$code" -eq 1 ] || { echo "ci: auto on sage-33060 seed $seed should exit 1, got $code" >&2; exit 1; }
    python3 -c 'import json,sys; e=json.load(open("/tmp/prefixrace-auto.json"))["first_failure"]["execution"]; print("auto seed", sys.argv[1], "first failure at execution", e); sys.exit(e > 10)' "$seed"
done
# A capped dpor run is INCOMPLETE, never PASS: exit 0, or 1 with --require-complete.
./target/release/prefixrace explore scenarios/sage-33060-two-pips.toml --strategy direct-install --scheduler dpor --schedules 200 --no-pairs --format json > /tmp/prefixrace-dpor.json
python3 -c 'import json,sys; r=json.load(open("/tmp/prefixrace-dpor.json")); print("capped dpor:", r["verdict"], r["coverage"]["branches_left"], "branches left"); sys.exit(r["verdict"] != "incomplete")'
set +e
./target/release/prefixrace explore scenarios/sage-33060-two-pips.toml --strategy direct-install --scheduler dpor --schedules 200 --no-pairs --require-complete > /dev/null
code=$?
set -e
[ "$code" -eq 1 ] || { echo "ci: --require-complete on a capped dpor run should exit 1, got $code" >&2; exit 1; }
# The environment knobs fill in what no flag gives: 7 executions, under auto and random.
for scheduler in auto random; do
    PREFIXRACE_SCHEDULES=7 PREFIXRACE_SCHEDULER=$scheduler ./target/release/prefixrace explore scenarios/sage-32361.toml --strategy direct-install --format json > /tmp/prefixrace-knobs.json
    python3 -c 'import json,sys; r=json.load(open("/tmp/prefixrace-knobs.json")); print("PREFIXRACE_SCHEDULES=7,", sys.argv[1] + ":", r["executions"], "executions,", r["verdict"]); sys.exit(r["executions"] != 7)' "$scheduler"
done
# The recall table (issue 17): every scenario with an [expect] table meets it.
./target/release/prefixrace corpus harness/tests/fixtures/corpus --no-timing > /dev/null
if [ -d scenarios/races ]; then
    ./target/release/prefixrace corpus scenarios/races
fi
echo "ci: all green"
