"""Gathering the heatmap store: scatter jobs write disjoint trial ranges, a gather job validates
and consolidates them into one chunked Zarr store per model and explainer (the layout is the
contract in ``artifacts.heatmaps``).

A part is complete only when its marker JSON exists; the marker holds the part's trial range
and a checksum of its relevance array, which the gather step verifies, so a truncated or
corrupted part is named at gather time instead of being read silently.
"""

from __future__ import annotations

import json
import logging
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from facesimxai.artifacts.heatmaps import StoreError, array_sha256, chunk_checksums, read_target_maps, target_faces
from facesimxai.io import atomic_path, file_sha256, open_zarr

# No torch here: the gather job only copies and checks arrays, and importing torch and zennit
# would triple its start-up (explain.part computes the parts).
log = logging.getLogger(__name__)


def _validate_part(path: Path, marker: Path) -> xr.Dataset:
    try:
        info = json.loads(Path(marker).read_text())
        ds = open_zarr(path)
        rel = ds["relevance"].to_numpy()
    except Exception as exc:
        raise StoreError(f"heatmap part {path} cannot be read ({type(exc).__name__}: {exc}); "
                         "delete it and its marker and re-run") from exc
    if list(rel.shape) != info["shape"] or array_sha256(rel) != info["relevance_sha256"]:
        raise StoreError(f"heatmap part {path} does not match its marker {marker} (shape or checksum); "
                         "it is truncated or corrupted: delete it and its marker and re-run")
    if not np.isfinite(rel.astype(np.float32)).all():
        raise StoreError(f"heatmap part {path} contains NaN or infinite relevance")
    return ds.load()


def gather_heatmaps(parts: list[str], markers: list[str], backbone: Path | str, head: Path | str,
                    manifest: Path | str, explainer: dict, explain_cfg: dict, config_hash: str,
                    out: Path | str, faces_out: Path | str) -> xr.Dataset:
    """Validate the parts, concatenate them in trial order and write the store and face maps."""
    datasets = [_validate_part(Path(p), Path(m)) for p, m in zip(parts, markers, strict=True)]
    datasets.sort(key=lambda d: d.attrs["part"])
    n_parts = datasets[0].attrs["n_parts"]
    if [d.attrs["part"] for d in datasets] != list(range(1, n_parts + 1)):
        raise StoreError(f"heatmap parts are incomplete: have {[d.attrs['part'] for d in datasets]} of {n_parts}")
    for prev, nxt in zip(datasets, datasets[1:], strict=False):
        if prev.attrs["trial_range"][1] != nxt.attrs["trial_range"][0]:
            raise StoreError("heatmap parts do not tile the trial range: "
                             f"{prev.attrs['trial_range']} then {nxt.attrs['trial_range']}")
    ds = xr.concat(datasets, dim="trial", combine_attrs="drop")
    if ds.sizes["trial"] and float(np.abs(ds["relevance"]).max()) == 0:
        raise StoreError(f"every relevance map for {out} is zero: the model's decision does not depend on "
                         "its input (a dead decision block?); check the head's training metrics")
    engines = sorted({d.attrs["engine"] for d in datasets})
    ds.attrs = {
        "explainer": json.dumps(explainer, sort_keys=True),
        "engine": ",".join(engines),
        "backbone_sha256": file_sha256(backbone),
        "head_sha256": file_sha256(head),
        "config_hash": config_hash,
        "versions": json.dumps({p: version(p) for p in ("facesimxai", "torch", "zennit", "zarr", "xarray")}),
        "convention": "relevance summed over colour channels; positive = evidence for the target",
    }
    chunk = min(explain_cfg["chunk_trials"], max(1, ds.sizes["trial"]))
    ds["relevance"].encoding["chunks"] = (chunk, *ds["relevance"].shape[1:])
    ds.attrs.update(chunk_checksums(ds["relevance"].to_numpy(), chunk))
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=True)
    face_maps = per_face_maps(ds, pd.read_parquet(manifest)["face_id"].to_numpy())
    face_maps.attrs = {k: v for k, v in ds.attrs.items() if not k.startswith("relevance_chunk")}
    with atomic_path(faces_out) as tmp:
        face_maps.to_zarr(tmp, mode="w", consolidated=True)
    log.info("heatmap store: %d trials, relevance %s %s, engines %s", ds.sizes["trial"],
             ds["relevance"].dtype, tuple(ds["relevance"].shape), ",".join(engines))
    return ds


def per_face_maps(ds: xr.Dataset, face_ids: np.ndarray) -> xr.Dataset:
    """Mean target-position map over the trials in which each face is the target."""
    target_face = target_faces(ds)
    rel = read_target_maps(ds).astype(np.float64)
    h, w = rel.shape[-2:]
    sums = np.zeros((len(face_ids), h, w))
    counts = np.zeros(len(face_ids), np.int64)
    index = {int(f): i for i, f in enumerate(face_ids)}
    for f in np.unique(target_face):
        rows = target_face == f
        sums[index[int(f)]] = rel[rows].sum(axis=0)
        counts[index[int(f)]] = rows.sum()
    mean = np.where(counts[:, None, None] > 0, sums / np.maximum(counts, 1)[:, None, None], np.nan)
    return xr.Dataset({"relevance": (("face", "y", "x"), mean.astype(np.float32)),
                       "n_trials": ("face", counts)},
                      coords={"face_id": ("face", np.asarray(face_ids, np.int64))})
