"""Peak memory of streaming PCA and embedding on a heatmap store larger than a memory budget.

Writes a synthetic store of ``--factor`` × ``--budget-mb`` (float32 maps of low-dimensional signed
structure, chunked along trial), then runs the pipeline's streaming PCA and the embedding/cluster
steps in a fresh subprocess with a PCA batch chosen to fit the budget, and prints the store size,
the budget, the subprocess's peak RSS, and the RSS of the same imports without the work (baseline).
Run: ``python benchmarks/latent_memory.py [--budget-mb 256] [--factor 4] [--size 64]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

WORK = r"""
import json, resource, sys, time
import numpy as np
from facesimxai.latent.pca import run_pca
from facesimxai.latent.embed import embed_2d, kmeans_scan, cluster_means
store, out, batch, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
t = time.perf_counter()
if work:
    ds = run_pca(store, {"n_components": 20, "batch_size": batch, "normalise": "abs_sum"}, out)
    x = ds["scores"].to_numpy()
    sub = x[:: max(1, len(x) // 5000)]  # t-SNE/UMAP on a 5,000-point subsample; PCA scores are tiny anyway
    xy = embed_2d(sub, "tsne", {"tsne_perplexity": 30, "seed": 0})
    _, best, labels = kmeans_scan(x[:, :10], [2, 6], 0)
    means = cluster_means(store, labels, "abs_sum", batch)
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
    first = True
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        maps = np.einsum("nk,khw->nhw", rng.normal(size=(m, 8)), blobs) + rng.normal(0, 0.05, (m, size, size))
        part = xr.Dataset({"relevance": (("trial", "y", "x"), maps.astype(np.float32))},
                          coords={k: (d, v[s:s + m]) for k, (d, v) in coords.items()})
        if first:
            part.to_zarr(path, mode="w", consolidated=False, encoding={"relevance": {"chunks": (chunk, size, size)}})
            first = False
        else:
            part.to_zarr(path, append_dim="trial", consolidated=False)


def run(store: Path, out: Path, batch: int, work: bool) -> dict:
    proc = subprocess.run([sys.executable, "-c", WORK, str(store), str(out), str(batch), "1" if work else "0"],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget-mb", type=float, default=256)
    ap.add_argument("--factor", type=float, default=4)
    ap.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    map_bytes = args.size * args.size * 4
    n = int(args.factor * args.budget_mb * 2**20 / map_bytes)
    batch = max(100, int(args.budget_mb * 2**20 / 8 / map_bytes))  # a batch uses ≤ 1/8 of the budget
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "big.zarr"
        t = time.perf_counter()
        write_store(store, n, args.size, chunk=1024)
        write_s = time.perf_counter() - t
        base = run(store, Path(tmp) / "p0.zarr", batch, work=False)
        work = run(store, Path(tmp) / "p.zarr", batch, work=True)
    result = {"maps": n, "map_px": args.size, "store_uncompressed_mb": n * map_bytes / 2**20,
              "budget_mb": args.budget_mb, "pca_batch": batch, "write_s": write_s,
              "baseline_rss_mb": base["peak_rss_mb"], "peak_rss_mb": work["peak_rss_mb"],
              "work_s": work["seconds"]}
    print(json.dumps(result, indent=2))
    print(f"store_mb={result['store_uncompressed_mb']:.0f} budget_mb={args.budget_mb:.0f} "
          f"peak_rss_mb={work['peak_rss_mb']:.0f} above_baseline_mb={work['peak_rss_mb'] - base['peak_rss_mb']:.0f}")


if __name__ == "__main__":
    main()
