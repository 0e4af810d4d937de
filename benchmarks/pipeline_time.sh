#!/usr/bin/env bash
# Wall time of the whole pipeline from scratch on the demo config (config/config.yaml) and on the
# CI config (config/test.yaml), each in an empty directory with CORES cores (default 2).
# Targets on the 2-core development machines: demo ≤ 15 min, test ≤ 3 min.
# Last line: demo_s=<a> test_s=<b>.   Run: bash benchmarks/pipeline_time.sh [--test-only]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SNAKEMAKE="${SNAKEMAKE:-$ROOT/.venv/bin/snakemake}"
CORES="${CORES:-2}"
cd "$ROOT"  # Snakemake finds the workflow profile (profiles/default) relative to the current directory
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

run() {  # run <name> <configfile>: prints the seconds; the log stays in $WORK/<name>.log on failure
    local dir="$WORK/$1" start end
    mkdir -p "$dir"
    start=$(date +%s.%N)
    if ! "$SNAKEMAKE" -s "$ROOT/workflow/Snakefile" --directory "$dir" --configfile "$2" \
            --cores "$CORES" > "$WORK/$1.log" 2>&1; then
        tail -50 "$WORK/$1.log" >&2
        echo "pipeline on $2 failed" >&2
        exit 1
    fi
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l | xargs printf '%.0f'
}

test_s=$(run test "$ROOT/config/test.yaml")
echo "test config: ${test_s} s" >&2
demo_s=NA
if [[ "${1:-}" != "--test-only" ]]; then
    demo_s=$(run demo "$ROOT/config/config.yaml")
    echo "demo config: ${demo_s} s" >&2
fi
echo "demo_s=${demo_s} test_s=${test_s}"
