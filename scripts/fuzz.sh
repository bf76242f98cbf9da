#!/usr/bin/env bash
# Bounded fuzzing of every target in fuzz/: SECONDS each (default 60), on one core, starting from
# the corpus kept in the repo. New inputs go to a scratch directory, so the checkout stays clean;
# a crash fails the run and leaves its input in fuzz/artifacts/TARGET/ (see fuzz/README.md).
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || (( seconds < 1 )); then
    echo "fuzz.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
    exit 2
fi
if ! cargo fuzz --version > /dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
    exit 2
fi
# cargo-fuzz needs nightly-only compiler flags; this lets the stable toolchain accept them.
export RUSTC_BOOTSTRAP=1
# No sanitizer: the code forbids unsafe, so a panic is what there is to find; it runs faster.
flags=(-O -s none)
targets=("$@")
if (( ${#targets[@]} == 0 )); then
    mapfile -t targets < <(cargo fuzz list)
fi
cargo fuzz build "${flags[@]}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    echo "fuzz $target: ${seconds} s"
    # The first directory receives new inputs; the kept corpus is read only.
    cargo fuzz run "${flags[@]}" "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=9000 -rss_limit_mb=4096 -print_final_stats=1 \
        2> "$scratch/$target.log" || { tail -40 "$scratch/$target.log" >&2; exit 1; }
    grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)|cov: " "$scratch/$target.log" \
        | tail -4 | sed "s/^/  /"
done
