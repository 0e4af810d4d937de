"""Streaming read throughput of a heatmap store, chunk by chunk (never the whole store at once).

Run after the pipeline: ``python benchmarks/store_read.py results/heatmaps/hum/lrp.zarr``.
Prints a JSON object and a last line ``read_mb_per_s=<x>``. Each chunk is reduced (sum of
squares) so the read cannot be optimised away; the page cache is what it is — run it twice and
report both if the first read is cold.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from facesimxai.io import open_zarr


def main(path: str) -> None:
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
    result = {"store": path, "trials": n, "chunk_trials": chunk, "dtype": str(rel.dtype),
              "megabytes": total_bytes / 1e6, "seconds": seconds, "checksum": checksum}
    print(json.dumps(result, indent=2))
    print(f"read_mb_per_s={total_bytes / 1e6 / seconds:.1f}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "results/heatmaps/hum/lrp.zarr")
