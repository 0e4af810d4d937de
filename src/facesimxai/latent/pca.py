"""Streaming PCA of the heatmaps (scikit-learn IncrementalPCA over store batches).

Two passes over the store, batch by batch: ``partial_fit``, then ``transform``. Memory is bounded
by the batch (batch × H·W floats) and the components (n_components × H·W), never by the store.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import xarray as xr
from sklearn.decomposition import IncrementalPCA
from tqdm import tqdm

from facesimxai.artifacts.heatmaps import map_size, open_heatmaps
from facesimxai.io import atomic_path, open_zarr
from facesimxai.latent.maps import batch_bounds, read_maps, trial_coords
from facesimxai.numerics import pinned_blas

log = logging.getLogger(__name__)


def streaming_pca(store: Path | str, n_components: int, batch: int,
                  normalise: str) -> tuple[IncrementalPCA, np.ndarray]:
    """Fit IncrementalPCA over the store in batches, then project every map; returns (pca, scores).

    BLAS threads are pinned (``numerics.pinned_blas``): the SVDs of ``partial_fit`` round differently
    for different thread counts, and a resumed or re-submitted job must give the same scores.
    """
    with pinned_blas():
        return _streaming_pca(store, n_components, batch, normalise)


def _streaming_pca(store: Path | str, n_components: int, batch: int,
                   normalise: str) -> tuple[IncrementalPCA, np.ndarray]:
    ds = open_heatmaps(store)
    n = ds.sizes["trial"]
    k = min(n_components, n, int(np.prod(map_size(ds))))
    if k < n_components:
        log.warning("%s: %d components requested but only %d maps/pixels; fitting %d", store, n_components, n, k)
    batch = max(batch, k)  # IncrementalPCA needs at least n_components samples per partial_fit
    bounds = batch_bounds(n, batch, min_last=k)
    pca = IncrementalPCA(n_components=k)
    for start, stop in tqdm(bounds, desc="PCA fit", unit="batch"):
        pca.partial_fit(read_maps(ds, start, stop, normalise).reshape(stop - start, -1))
    scores = np.zeros((n, k), np.float32)
    for start, stop in tqdm(bounds, desc="PCA transform", unit="batch"):
        scores[start:stop] = pca.transform(read_maps(ds, start, stop, normalise).reshape(stop - start, -1))
    return pca, scores


def run_pca(store: Path | str, cfg: dict, out: Path | str) -> xr.Dataset:
    """PCA of one heatmap store → ``pca.zarr``: scores[trial, component] with the store's trial coords,
    components[component, y, x], mean[y, x], explained_variance_ratio[component]."""
    src = open_zarr(store)
    h, w = map_size(src)
    pca, scores = streaming_pca(store, cfg["n_components"], cfg["batch_size"], cfg["normalise"])
    k = pca.n_components_
    ds = xr.Dataset(
        {"scores": (("trial", "component"), scores),
         "components": (("component", "y", "x"), pca.components_.reshape(k, h, w).astype(np.float32)),
         "mean": (("y", "x"), pca.mean_.reshape(h, w).astype(np.float32)),
         "explained_variance_ratio": ("component", pca.explained_variance_ratio_.astype(np.float32))},
        coords={**trial_coords(src), "component": np.arange(k)},
        attrs={"normalise": cfg["normalise"], "source_store": str(store), "n_maps": int(len(scores))},
    )
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    log.info("PCA: %d maps, %d components explain %.1f%% of the variance", len(scores), k,
             100 * float(pca.explained_variance_ratio_.sum()))
    return ds
