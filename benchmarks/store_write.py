"""Heatmap-store write throughput: one scatter part written, then gathered into the final store.

Writes a synthetic store of ``--mb`` MB of float32 maps with the pipeline's own writers
(``latent_memory.write_store``: ``artifacts.heatmaps.write_part`` for the explain part, with its
checksum marker, then ``explain.store.gather_heatmaps``, the gather rule's function, with the
per-chunk checksums every reading stage verifies) into a temporary folder, and times the two writes.
Generating the maps is not timed. The disk and page cache are what they are: the figure is for
this machine's temporary folder (``TMPDIR``).

Prints a JSON object, then ``part_write_gb_per_s=<a> gather_gb_per_s=<b>``.
Run from the repository root: ``python benchmarks/store_write.py [--mb 512] [--size 64]``
(about 20 seconds at the defaults on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from latent_memory import chunk_trials_default, write_store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=512, help="relevance megabytes written")
    ap.add_argument("--size", type=int, default=64, help="map size (px)")
    args = ap.parse_args()
    n = max(1, int(args.mb * 2**20 / (args.size * args.size * 4)))
    with tempfile.TemporaryDirectory() as tmp:
        t = write_store(Path(tmp) / "synthetic.zarr", n, args.size, chunk_trials_default())
    gb = t["relevance_bytes"] / 1e9
    report = {"trials": n, "size": args.size, "chunk_trials": chunk_trials_default(), "relevance_gb": gb, **t,
              "part_write_gb_per_s": gb / t["part_write_s"], "gather_gb_per_s": gb / t["gather_s"]}
    print(json.dumps(report, indent=1))
    print(f"part_write_gb_per_s={report['part_write_gb_per_s']:.3f} gather_gb_per_s={report['gather_gb_per_s']:.3f}")


if __name__ == "__main__":
    main()
