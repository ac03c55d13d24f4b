#!/usr/bin/env bash
# Runs pyzap's fuzz targets for a while each and says which ones crashed.
#
#   fuzz/run.sh [--merge] [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 60, TARGET to every target
# (`cargo +nightly fuzz list`). Each target reads its committed seeds in
# corpus/<target>/ and writes what it finds to work/<target>/ (ignored by
# git, kept between runs), so the committed corpus stays small; --merge
# then adds to corpus/<target>/ the inputs of work/<target>/ that reach new
# coverage (libFuzzer's -merge=1). Crashes land in artifacts/<target>/;
# logs in work/<target>.log. Exits 1 when any target crashed, hung or ran
# out of memory.
#
# Environment: FUZZ_TIMEOUT (seconds one input may take before it counts as
# a hang, default 20), CARGO_BUILD_JOBS (set it to 1 on a small machine).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

merge=0
if [[ "${1:-}" == "--merge" ]]; then
    merge=1
    shift
fi
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
    echo "usage: fuzz/run.sh [--merge] [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
shift || true
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
timeout="${FUZZ_TIMEOUT:-20}"

# One build for every target; the runs below start its binaries with the
# arguments `cargo fuzz run` gives them, so a source edited meanwhile (the
# tree is shared) neither rebuilds nor breaks a run half-way.
cargo +nightly fuzz build
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin="target/$triple/release"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"
for t in "${targets[@]}"; do
    if [[ ! -x "$bin/$t" ]]; then
        echo "no fuzz target \`$t\` (see \`cargo +nightly fuzz list\`)" >&2
        exit 2
    fi
done

declare -A executions result
failed=0
for t in "${targets[@]}"; do
    mkdir -p "work/$t" "corpus/$t" "artifacts/$t"
    log="work/$t.log"
    echo "== $t: ${seconds}s" >&2
    status=0
    # The first corpus directory is the one libFuzzer adds new inputs to.
    "$bin/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 \
        "work/$t" "corpus/$t" >"$log" 2>&1 || status=$?
    executions[$t]="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
    if [[ $status -ne 0 || -n "$artifact" ]]; then
        failed=1
        kind="crash"
        grep -aq "libFuzzer: timeout" "$log" && kind="timeout"
        grep -aq "libFuzzer: out-of-memory" "$log" && kind="out of memory"
        result[$t]="$kind: ${artifact:-see $log}"
        # The panic message and where it was raised, for the summary.
        grep -a -m 1 -E "panicked at|ERROR: AddressSanitizer|ERROR: libFuzzer" -A 1 "$log" >&2 || true
    else
        result[$t]="ok"
    fi
    if [[ $merge -eq 1 ]]; then
        "$bin/$t" -artifact_prefix="artifacts/$t/" -merge=1 "corpus/$t" "work/$t" >>"$log" 2>&1
    fi
done

printf '\n%-18s %8s %12s  %s\n' target seconds executions result
for t in "${targets[@]}"; do
    printf '%-18s %8s %12s  %s\n' "$t" "$seconds" "${executions[$t]:-?}" "${result[$t]}"
done
exit "$failed"
