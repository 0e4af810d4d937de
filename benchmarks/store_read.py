"""Streaming read throughput of a heatmap store, chunk by chunk (never the whole store at once).

Measures how fast the relevance array of a store can be read one trial chunk at a time (the way
the latent and region stages stream it). Each chunk is reduced (sum of squares) so the read cannot
be optimised away; the store is opened with ``io.open_zarr``, so the checksum pass of
``open_heatmaps`` is not part of the figure. The page cache is what it is: run it twice and report
both if the first read is cold.

Run from the repository root after the pipeline: ``python benchmarks/store_read.py
results/heatmaps/hum/lrp.zarr``. Without an argument it reads that store if it exists, and otherwise
writes a synthetic store of ``--synthetic-mb`` MB with the pipeline's own writers (as
``latent_memory.py`` does) into a temporary folder and reads that (just written, so from the page
cache). Prints a JSON object and a last line ``read_mb_per_s=<x>``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from facesimxai.io import open_zarr

DEFAULT = "results/heatmaps/hum/lrp.zarr"


def read_throughput(path: str | Path) -> dict:
    rel = open_zarr(path)["relevance"]
    chunk = rel.encoding.get("chunks", (256,))[0] or 256
    n = rel.shape[0]
    total_bytes, checksum = 0, 0.0
    t = time.perf_counter()
    for s in range(0, n, chunk):
        block = rel[s:s + chunk].to_numpy()
        total_bytes += block.nbytes
        checksum += float(np.square(block, dtype=np.float64).sum())
    seconds = time.perf_counter() - t
    return {"store": str(path), "trials": n, "chunk_trials": chunk, "dtype": str(rel.dtype),
            "megabytes": total_bytes / 1e6, "seconds": seconds, "checksum": checksum}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("store", nargs="?", default=None, help=f"heatmap store (default: {DEFAULT} or a synthetic one)")
    ap.add_argument("--synthetic-mb", type=float, default=256, help="size of the synthetic store, if one is written")
    ap.add_argument("--size", type=int, default=64, help="map size (px) of the synthetic store")
    args = ap.parse_args()
    path = args.store or DEFAULT
    if Path(path).exists():
        result = read_throughput(path)
    elif args.store:
        raise SystemExit(f"no heatmap store at {path}")
    else:
        from latent_memory import chunk_trials_default, write_store

        with tempfile.TemporaryDirectory() as tmp:
            n = int(args.synthetic_mb * 2**20 / (args.size * args.size * 4))
            store = Path(tmp) / "synthetic.zarr"
            write_store(store, n, args.size, chunk_trials_default())
            result = {**read_throughput(store), "store": f"synthetic ({DEFAULT} does not exist)"}
    print(json.dumps(result, indent=2))
    print(f"read_mb_per_s={result['megabytes'] / result['seconds']:.1f}")


if __name__ == "__main__":
    main()
