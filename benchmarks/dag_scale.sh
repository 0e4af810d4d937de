#!/usr/bin/env bash
# DAG size and build time at the full study's geometry (config/fullscale.yaml): a dry-run from an
# empty directory, so every job is listed. Targets: at most 2,000 jobs, under 30 s.
# Last line: jobs=<n> seconds=<s>.   Run: bash benchmarks/dag_scale.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SNAKEMAKE="${SNAKEMAKE:-$ROOT/.venv/bin/snakemake}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
start=$(date +%s.%N)
"$SNAKEMAKE" -s "$ROOT/workflow/Snakefile" --directory "$WORK" --configfile "$ROOT/config/fullscale.yaml" \
    --workflow-profile none -n --quiet rules > "$WORK/dry.log" 2>&1 || { cat "$WORK/dry.log"; exit 1; }
end=$(date +%s.%N)
awk '/^Job stats/ {f = 1} f {print} /^total/ && f {exit}' "$WORK/dry.log"
jobs=$(awk '/^total/ {print $2; exit}' "$WORK/dry.log")
echo "jobs=${jobs} seconds=$(echo "$end - $start" | bc -l | xargs printf '%.1f')"
