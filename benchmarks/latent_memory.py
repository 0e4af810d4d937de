"""Peak memory of streaming PCA and embedding on a heatmap store larger than a memory budget.

Measures whether the latent stage's memory follows ``latent.pca.batch_size`` rather than the store:
it writes a synthetic store of ``--factor`` × ``--budget-mb`` (float32 maps of low-dimensional
signed structure) with the pipeline's own writers (one scatter part through
``artifacts.heatmaps.write_part``, gathered by ``explain.store.gather_heatmaps``: the same chunking along
trial and the per-chunk checksums that every reading stage verifies), then runs the pipeline's
streaming PCA (``latent.pca.run_pca``, which opens the store through ``open_heatmaps``), t-SNE on
a sample of the scores, k-means and the cluster means in a fresh subprocess, with a PCA batch
chosen to fit the budget. The same work runs on a store of 1× the budget, so one sees whether the
peak grows with the store. Peak RSS is the subprocess's VmHWM; the baseline is a subprocess that
only does the same imports.

Prints a JSON object, then the line ``store_mb=<a> budget_mb=<b> peak_rss_mb=<c>
above_baseline_mb=<d> above_baseline_1x_store_mb=<e>`` (c, d for the factor× store).
Run from the repository root: ``python benchmarks/latent_memory.py [--budget-mb 256] [--factor 4]
[--size 64] [--chunk-trials N]`` (about 5 minutes at the defaults on 2 quiet CPU cores).
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
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]

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


def chunk_trials_default() -> int:
    """``explain.chunk_trials``'s default in the config schema: the store chunk the pipeline writes."""
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    return int(schema["properties"]["explain"]["properties"]["chunk_trials"]["default"])


def write_store(path: Path, n: int, size: int, chunk: int, n_faces: int = 100) -> dict:
    """A store of ``n`` synthetic maps written by the pipeline's own writers.

    One scatter part (``artifacts.heatmaps.part_dataset`` and ``write_part``, with its checksum marker) is gathered by
    ``explain.store.gather_heatmaps``, the gather rule's function, so the store has exactly the
    pipeline's layout: coordinates, logits, ``chunk`` trials per relevance chunk, the per-chunk
    checksums that ``open_heatmaps`` verifies, and the per-face maps beside it. The writer holds the
    whole store in memory (a few GB at most); only the measured subprocess has to stream.
    Returns the relevance bytes and the seconds of the two writes (``store_write.py`` reports them).
    """
    from facesimxai.artifacts.heatmaps import part_dataset, write_part
    from facesimxai.explain.store import gather_heatmaps

    # the gather rule writes consolidated metadata, and zarr warns that v3 does not specify it
    warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size] / size
    blobs = np.stack([np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 0.01) for cy, cx in rng.random((8, 2))])
    maps = np.empty((n, size, size), np.float32)
    for s in range(0, n, 4096):
        m = min(4096, n - s)
        maps[s:s + m] = (np.einsum("nk,khw->nhw", rng.normal(size=(m, 8)), blobs)
                         + rng.normal(0, 0.05, (m, size, size)))
    heads = np.argsort(rng.random((n, n_faces)), axis=1)[:, :3]
    target = rng.integers(0, 3, n).astype(np.int8)
    trials = pd.DataFrame({"trial_id": np.arange(n), "head1": heads[:, 0], "head2": heads[:, 1],
                           "head3": heads[:, 2], "odd_pos": rng.integers(0, 3, n), "split": "test"})
    part = part_dataset(maps, rng.normal(size=(n, 3)), target, trials, part=1, n_parts=1, trial_range=(0, n),
                        engine="factorized")
    work = path.parent / f"{path.stem}_parts"
    work.mkdir()
    t = time.perf_counter()
    write_part(part, work / "1-of-1.zarr", work / "1-of-1.json")
    part_s = time.perf_counter() - t
    del part, maps
    for name in ("backbone.pt", "head.pt"):  # only their checksums go into the store's attributes
        (work / name).write_bytes(name.encode())
    pd.DataFrame({"face_id": np.arange(n_faces)}).to_parquet(work / "manifest.parquet")
    t = time.perf_counter()
    gather_heatmaps([work / "1-of-1.zarr"], [work / "1-of-1.json"], work / "backbone.pt", work / "head.pt",
                    work / "manifest.parquet", {"method": "synthetic"}, {"chunk_trials": chunk}, "benchmark",
                    path, path.parent / f"{path.stem}_faces.zarr")
    gather_s = time.perf_counter() - t
    shutil.rmtree(work)
    return {"relevance_bytes": n * size * size * 4, "part_write_s": part_s, "gather_s": gather_s}


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
    ap.add_argument("--chunk-trials", type=int, default=None,
                    help="trials per store chunk (default: explain.chunk_trials's default in the config schema)")
    ap.add_argument("--malloc-arena-max", default="2", help="MALLOC_ARENA_MAX for the work ('' = glibc default)")
    args = ap.parse_args()
    chunk = args.chunk_trials or chunk_trials_default()
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
            write_store(store, n, args.size, chunk)
            write_s = time.perf_counter() - t
            if base is None:
                base = run(store, Path(tmp) / "p0.zarr", batch, False, args.malloc_arena_max)
            work = run(store, Path(tmp) / f"p_{factor:g}.zarr", batch, True, args.malloc_arena_max)
            shutil.rmtree(store)
            shutil.rmtree(store.parent / f"{store.stem}_faces.zarr")
            rows.append({"factor": factor, "maps": n, "store_uncompressed_mb": n * map_bytes / 2**20,
                         "write_s": round(write_s, 1), "peak_rss_mb": round(work["peak_rss_mb"]),
                         "above_baseline_mb": round(work["peak_rss_mb"] - base["peak_rss_mb"]),
                         "work_s": round(work["seconds"], 1)})
    print(json.dumps({"budget_mb": args.budget_mb, "malloc_arena_max": args.malloc_arena_max,
                      "map_px": args.size, "chunk_trials": chunk, "pca_batch": batch,
                      "baseline_rss_mb": round(base["peak_rss_mb"]), "runs": rows}, indent=2))
    big, small = rows[-1], rows[0]
    print(f"store_mb={big['store_uncompressed_mb']:.0f} budget_mb={args.budget_mb:.0f} "
          f"peak_rss_mb={big['peak_rss_mb']} above_baseline_mb={big['above_baseline_mb']} "
          f"above_baseline_1x_store_mb={small['above_baseline_mb']}")


if __name__ == "__main__":
    main()
