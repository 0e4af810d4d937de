#!/usr/bin/env bash
# The one prepared device run: every throughput figure of the pipeline's heavy stages, in one go.
#
#   bash benchmarks/gpu.sh          # gpu mode when torch sees CUDA, else cpu mode
#   bash benchmarks/gpu.sh gpu      # one GPU: VGG-16 at 224 px, K = 300 (aimed at < 6 min on one H200)
#   bash benchmarks/gpu.sh cpu      # CI-sized smoke run of the same scripts (about 25 s on 2 idle cores;
#                                   # OMP_NUM_THREADS sets torch's threads, 1 beside other jobs)
#
# Runs, each in its own process, with ratios measured side by side inside each script:
#   1. lrp_engines.py: naive, zennit, direct and factorized LRP engines; per-pass costs at the full
#      study's geometry and the projected full-study hours; bfloat16/float16 direct maps against
#      float32 (error and speed-up);
#   2. region_shapley_cost.py: exact and sampled region Shapley, embeddings/s, projected to 100 faces;
#   3. store_write.py: heatmap-store write GB/s (explain part, then gather);
#   4. vlm_batching.py: tiny-VLM requests/s batched against one at a time.
# Each script's full JSON goes to $OUT (default: a temporary folder); the summary at the end
# repeats the last figure lines of each. In cpu mode the LRP "full-study" projection runs on a
# small geometry and says so: only gpu mode gives the study's figures.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
MODE="${1:-auto}"
if [ "$MODE" = auto ]; then
    MODE=$("$PY" -c 'import torch; print("gpu" if torch.cuda.is_available() else "cpu")')
fi
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
cd "$ROOT"
export PYTHONPATH="$ROOT/src:$ROOT/benchmarks${PYTHONPATH:+:$PYTHONPATH}"

case "$MODE" in
    gpu)
        DEV=cuda
        LRP=(--device cuda --faces 24 --width 32 --size 112 --zennit-batches 1,16,64,256 --scan-trials 512
             --full-batches 1,16,64 --full-basis-units 60 --full-trial-sample 5000
             --reduced-precision bfloat16,float16 --reduced-precision-trials 16)
        SHAPLEY=(--device cuda --size 224 --vgg-width 1 --faces 3 --permutations 64)
        STORE=(--mb 2048 --size 224)
        VLM=(--device cuda --requests 64 --batch 32)
        ;;
    cpu)
        DEV=cpu
        LRP=(--device cpu --faces 4 --width 4 --size 32 --zennit-batches 1,4 --scan-trials 8 --repeats 1
             --scan-repeats 1 --check-trials 4 --full-size 32 --full-vgg-width 0.0625 --full-batches 1,2
             --full-basis-units 2 --full-repeats 1 --full-trial-sample 50
             --reduced-precision bfloat16 --reduced-precision-trials 2)
        SHAPLEY=(--device cpu --size 32 --faces 3 --permutations 8 --threads "${OMP_NUM_THREADS:-2}")
        STORE=(--mb 32 --size 64)
        VLM=(--device cpu --requests 4 --batch 4 --repeats 1)
        ;;
    *)
        echo "benchmarks/gpu.sh: mode must be gpu, cpu or auto, not '$MODE'" >&2
        exit 2
        ;;
esac

echo "gpu.sh: mode $MODE on $DEV, $(date -u +%Y-%m-%dT%H:%MZ), outputs in $OUT"
"$PY" -c 'import torch; print("device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
"| torch", torch.__version__, "| threads", torch.get_num_threads())'
start=$(date +%s)
step() {  # step <name> <script> <args...>: run one benchmark, keep its output, time it
    local name=$1 script=$2 t0
    shift 2
    t0=$(date +%s)
    echo "== $name: python benchmarks/$script $*"
    "$PY" "benchmarks/$script" "$@" > "$OUT/$name.txt" 2> "$OUT/$name.err" || {
        echo "benchmarks/gpu.sh: $script failed (exit $?); its stderr, last lines:" >&2
        tail -n 20 "$OUT/$name.err" >&2
        exit 1
    }
    grep -E '^[a-z_0-9]+(=|: )' "$OUT/$name.txt" | sed "s/^/  /"
    echo "  ($name: $(( $(date +%s) - t0 )) s)"
}
step lrp lrp_engines.py "${LRP[@]}"
step region_shapley region_shapley_cost.py "${SHAPLEY[@]}"
step store_write store_write.py "${STORE[@]}"
step vlm vlm_batching.py "${VLM[@]}"
echo "gpu.sh: done in $(( $(date +%s) - start )) s (mode $MODE); JSON of every step in $OUT"
