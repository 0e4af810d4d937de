"""Streaming access to the maps of a heatmap store, normalised, one batch of trials at a time.

Every latent step reads the store through ``read_maps`` batches so that no step ever holds the whole
store in memory; the batch size (in trials) bounds the working set.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import xarray as xr

from facesimxai.artifacts.heatmaps import TRIAL_COORDS, open_heatmaps, read_target_maps


def normalise(maps: np.ndarray, how: str) -> np.ndarray:
    """Scale each map: ``abs_sum`` (divide by sum |R|, the thesis), ``max_abs``, or ``none``.

    Maps without relevance stay zero rather than becoming NaN.
    """
    maps = np.asarray(maps, np.float32)
    if how == "none":
        return maps
    axes = tuple(range(1, maps.ndim))
    scale = np.abs(maps).sum(axis=axes, keepdims=True) if how == "abs_sum" else \
        np.abs(maps).max(axis=axes, keepdims=True)
    return np.divide(maps, scale, out=np.zeros_like(maps), where=scale > 0)


def read_maps(ds: xr.Dataset, start: int, stop: int, how: str) -> np.ndarray:
    """Normalised target maps of the contiguous trial range [start, stop)."""
    return normalise(read_target_maps(ds, slice(start, stop)), how)


def batch_bounds(n: int, batch: int, min_last: int = 1) -> list[tuple[int, int]]:
    """Contiguous [start, stop) batches; a last batch shorter than ``min_last`` joins the one before."""
    edges = list(range(0, n, batch)) + [n]
    if len(edges) > 2 and n - edges[-2] < min_last:
        del edges[-2]
    return list(zip(edges[:-1], edges[1:], strict=True))


def iter_maps(store: Path | str | xr.Dataset, batch: int, how: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (trial indices, normalised target maps (n, H, W)) batch by batch, in store order.
    A path is opened through ``open_heatmaps``, which checks the chunk checksums first."""
    ds = store if isinstance(store, xr.Dataset) else open_heatmaps(store)
    for start, stop in batch_bounds(ds.sizes["trial"], batch):
        yield np.arange(start, stop), read_maps(ds, start, stop, how)


def trial_coords(store: Path | str | xr.Dataset) -> dict[str, tuple[str, np.ndarray]]:
    ds = store if isinstance(store, xr.Dataset) else open_heatmaps(store)
    return {c: ("trial", ds[c].to_numpy()) for c in TRIAL_COORDS}
