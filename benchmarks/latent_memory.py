"""Peak memory of streaming PCA and embedding on a heatmap store larger than a memory budget.

Writes a synthetic store of ``--factor`` × ``--budget-mb`` (float32 maps of low-dimensional signed
structure, chunked along trial), then runs the pipeline's streaming PCA and the embedding/cluster
steps in a fresh subprocess with a PCA batch chosen to fit the budget, and prints the store size,
the budget, the subprocess's peak RSS, and the RSS of the same imports without the work (baseline).
Run: ``python benchmarks/latent_memory.py [--budget-mb 256] [--factor 4] [--size 64]``. It runs the
same work on a store of 1× the budget too, so one sees that the peak does not grow with the store.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

WORK = r"""
import json, sys, time
import numpy as np
from facesimxai.latent.pca import run_pca
from facesimxai.latent.embed import embed_2d, kmeans_scan, cluster_means
store, out, batch, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
t = time.perf_counter()
if work:
    ds = run_pca(store, {"n_components": 20, "batch_size": batch, "normalise": "abs_sum"}, out)
    x = ds["scores"].to_numpy()
    # The 2-D embedding works on the (n, components) scores, never on maps; a 2,000-point t-SNE
    # stands in for it here because t-SNE's own cost, not the store, would dominate the timing.
    sub = x[:: max(1, len(x) // 2000)]
    xy = embed_2d(sub, "tsne", {"tsne_perplexity": 30, "seed": 0})
    _, best, labels = kmeans_scan(x[:, :10], [2, 6], 0)
    means = cluster_means(store, labels, "abs_sum", batch)
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across fork+exec, so a child would
# report the parent's peak (the writer held the whole synthetic store in memory).
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"peak_rss_mb": hwm_kb / 1024,
                  "seconds": time.perf_counter() - t}))
"""


def write_store(path: Path, n: int, size: int, chunk: int) -> None:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size] / size
    blobs = np.stack([np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.01) for cy, cx in rng.random((8, 2))])
    coords = {"trial_id": ("trial", np.arange(n)), "head1": ("trial", np.ones(n, int)),
              "head2": ("trial", np.full(n, 2)), "head3": ("trial", np.full(n, 3)),
              "target_pos": ("trial", np.zeros(n, np.int8)), "pred_pos": ("trial", np.zeros(n, np.int8)),
              "human_odd": ("trial", np.zeros(n, np.int8)), "split": ("trial", np.array(["test"] * n, object))}
    # Built in the writer process in one piece (the store is a few GB at most): repeated
    # ``to_zarr(append_dim=...)`` calls re-read the growing coordinates and were the slow part.
    maps = np.empty((n, size, size), np.float32)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        maps[s:s + m] = np.einsum("nk,khw->nhw", rng.normal(size=(m, 8)), blobs) + rng.normal(0, 0.05, (m, size, size))
    ds = xr.Dataset({"relevance": (("trial", "y", "x"), maps)}, coords=coords)
    ds.to_zarr(path, mode="w", consolidated=False, encoding={"relevance": {"chunks": (chunk, size, size)}})


def run(store: Path, out: Path, batch: int, work: bool, arenas: str | None) -> dict:
    # MALLOC_ARENA_MAX caps glibc's per-thread malloc arenas: zarr decodes chunks on a thread pool,
    # and each thread's arena keeps ~100 MB of freed buffers resident otherwise.
    env = {**os.environ, **({"MALLOC_ARENA_MAX": arenas} if arenas else {})}
    proc = subprocess.run([sys.executable, "-c", WORK, str(store), str(out), str(batch), "1" if work else "0"],
                          capture_output=True, text=True, check=True, env=env)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget-mb", type=float, default=256)
    ap.add_argument("--factor", type=float, default=4, help="store size as a multiple of the budget")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--malloc-arena-max", default="2", help="MALLOC_ARENA_MAX for the work ('' = glibc default)")
    args = ap.parse_args()
    map_bytes = args.size * args.size * 4
    # IncrementalPCA works in float64 on a (batch + components) × pixels block, and its SVD and
    # copies take ~20× the float32 batch: 1/32 of the budget per batch keeps the peak under it.
    batch = max(100, int(args.budget_mb * 2**20 / 32 / map_bytes))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = None
        # The same work on a store of 1× and factor× the budget: the peak must not grow with it.
        for factor in (1.0, args.factor):
            n = int(factor * args.budget_mb * 2**20 / map_bytes)
            store = Path(tmp) / f"store_{factor:g}.zarr"
            t = time.perf_counter()
            write_store(store, n, args.size, chunk=1024)
            write_s = time.perf_counter() - t
            if base is None:
                base = run(store, Path(tmp) / "p0.zarr", batch, False, args.malloc_arena_max)
            work = run(store, Path(tmp) / f"p_{factor:g}.zarr", batch, True, args.malloc_arena_max)
            shutil.rmtree(store)
            rows.append({"factor": factor, "maps": n, "store_uncompressed_mb": n * map_bytes / 2**20,
                         "write_s": round(write_s, 1), "peak_rss_mb": round(work["peak_rss_mb"]),
                         "above_baseline_mb": round(work["peak_rss_mb"] - base["peak_rss_mb"]),
                         "work_s": round(work["seconds"], 1)})
    print(json.dumps({"budget_mb": args.budget_mb, "malloc_arena_max": args.malloc_arena_max,
                      "map_px": args.size, "pca_batch": batch,
                      "baseline_rss_mb": round(base["peak_rss_mb"]), "runs": rows}, indent=2))
    big, small = rows[-1], rows[0]
    print(f"store_mb={big['store_uncompressed_mb']:.0f} budget_mb={args.budget_mb:.0f} "
          f"peak_rss_mb={big['peak_rss_mb']} above_baseline_mb={big['above_baseline_mb']} "
          f"above_baseline_1x_store_mb={small['above_baseline_mb']}")


if __name__ == "__main__":
    main()
