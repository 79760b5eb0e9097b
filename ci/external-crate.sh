#!/usr/bin/env bash
# Issue 15's acceptance, as a user meets it: the two tests of
# ci/external-crate/tests/acceptance.rs, verbatim, in a fresh crate outside
# this workspace that depends on prefixrace by path, run with plain
# `cargo test`: a default debug build, no profile settings.
#
# Run twice: without a scenarios/ directory (Check::scenario falls back to
# the built-in scenario of the same name) and with the scenario files copied
# in (the file is used). The crate lives in a temp dir; its target dir is
# target/external-crate under this repository (the crate's own Cargo.toml
# is the workspace root, so none of this workspace's profiles apply), so a
# cached target makes reruns cheap.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
crate="$(mktemp -d)"
trap 'rm -rf "$crate"' EXIT
mkdir -p "$crate/src" "$crate/tests"
cat > "$crate/Cargo.toml" <<TOML
[package]
name = "fresh-user-crate"
version = "0.1.0"
edition = "2021"

[dependencies]
prefixrace = { path = "$repo/harness" }
TOML
: > "$crate/src/lib.rs"
cp "$repo/ci/external-crate/tests/acceptance.rs" "$crate/tests/"
export CARGO_TARGET_DIR="${EXTERNAL_CRATE_TARGET_DIR:-$repo/target/external-crate}"
cd "$crate"
if [ -e "$repo/Cargo.lock" ]; then cp "$repo/Cargo.lock" .; fi   # the versions CI already vetted
echo "== fresh crate in $crate: build (dev profile, no settings)"
cargo test --no-run --quiet
for variant in built-in file; do
    if [ "$variant" = file ]; then
        mkdir -p scenarios/payloads
        cp "$repo/scenarios/sage-32361.toml" scenarios/
        cp "$repo/scenarios/payloads/Cython-0.29.21.RECORD" scenarios/payloads/
    fi
    start=$(date +%s)
    cargo test --quiet -- --nocapture > test.log 2>&1 || { cat test.log; echo "ci: the fresh crate's tests failed ($variant)" >&2; exit 1; }
    grep -q "test result: ok. 2 passed" test.log || { cat test.log; exit 1; }
    case $variant in
        built-in) grep -q "using the built-in scenario sage-32361" test.log ;;
        file) ! grep -q "using the built-in scenario" test.log ;;
    esac || { cat test.log; echo "ci: the scenario was not resolved as expected ($variant)" >&2; exit 1; }
    echo "fresh crate ($variant scenario): 2 passed in $(( $(date +%s) - start )) s, debug build"
done
# Nothing was written into the user's crate: find_race saves no regression
# and a passing run saves nothing.
[ ! -e prefixrace-regressions ] && [ ! -e scenarios/sage-32361.regressions ] || { echo "ci: a passing check wrote a regressions file" >&2; exit 1; }
