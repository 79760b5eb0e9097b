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
command -v python3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3; }

export CARGO_TERM_COLOR=never
cargo --version

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

echo "== tests"
cargo test --workspace

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
echo "ci: all green"
