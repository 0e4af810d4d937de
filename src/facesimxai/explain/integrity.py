"""Integrity of heatmap stores: checksums written at gather time, checked whenever a stage opens one.

Kept apart from ``store`` (which needs torch and zennit) so every reading stage can use it cheaply.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import xarray as xr

from facesimxai.errors import InputError
from facesimxai.io import open_zarr


class StoreError(InputError):
    """A heatmap part or store that fails validation; the message names it."""


def array_sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def chunk_checksums(relevance: np.ndarray, chunk: int) -> dict:
    """SHA-256 of each trial chunk's values, kept in the store's attributes.

    Zarr reads a missing chunk file as fill values without complaint, and a chunk overwritten
    with other valid data decodes fine: only a checksum per chunk, checked when a stage opens the
    store, turns those into an error that names the chunk.
    """
    sums = [array_sha256(relevance[s:s + chunk]) for s in range(0, len(relevance), chunk)]
    return {"relevance_chunk_trials": int(chunk), "relevance_chunk_sha256": json.dumps(sums)}


def open_heatmaps(path: Path | str) -> xr.Dataset:
    """Open a heatmap store after checking every relevance chunk against its gather-time checksum.

    Costs one sequential read of the store (bounded by one chunk in memory); every stage that
    reads heatmaps opens them here, so a damaged store stops the first stage that meets it.
    """
    import zarr

    ds = open_zarr(path)
    if "relevance_chunk_sha256" not in ds.attrs:
        raise StoreError(f"heatmap store {path} has no chunk checksums (written by an older version or "
                         "not by the gather rule); delete it and re-run to rebuild it")
    sums = json.loads(ds.attrs["relevance_chunk_sha256"])
    chunk = int(ds.attrs["relevance_chunk_trials"])
    n = ds.sizes["trial"]
    if len(sums) != -(-n // chunk):
        raise StoreError(f"heatmap store {path} has {n} trials but checksums for {len(sums)} chunks of "
                         f"{chunk}: it was truncated or rewritten; delete it and re-run to rebuild it")
    meta = zarr.open_array(Path(path) / "relevance", mode="r").metadata
    for i, want in enumerate(sums):
        lo, hi = i * chunk, min((i + 1) * chunk, n)
        key = Path(path) / "relevance" / meta.encode_chunk_key((i, *[0] * (ds["relevance"].ndim - 1)))
        try:
            got = array_sha256(ds["relevance"][lo:hi].to_numpy())
        except Exception as exc:
            raise StoreError(f"heatmap store {path}: chunk {key} (trials {lo}-{hi - 1}) cannot be read "
                             f"({type(exc).__name__}: {exc}); delete the store and re-run to rebuild it") from exc
        if got != want:
            raise StoreError(f"heatmap store {path}: chunk {key} (trials {lo}-{hi - 1}) does not match the "
                             "checksum written at gather time (missing, truncated or overwritten); delete "
                             "the store and re-run to rebuild it")
    return ds
