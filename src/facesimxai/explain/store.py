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

import pandas as pd
import xarray as xr

from facesimxai.artifacts.heatmaps import RELEVANCE, assemble_store, face_maps, read_part, write_store
from facesimxai.io import atomic_path, file_sha256

# No torch here: the gather job only copies and checks arrays, and importing torch and zennit
# would triple its start-up (explain.part computes the parts).
log = logging.getLogger(__name__)


def gather_heatmaps(parts: list[str], markers: list[str], backbone: Path | str, head: Path | str,
                    manifest: Path | str, explainer: dict, explain_cfg: dict, config_hash: str,
                    out: Path | str, faces_out: Path | str) -> xr.Dataset:
    """Validate the parts, concatenate them in trial order and write the store and face maps."""
    datasets = [read_part(p, m) for p, m in zip(parts, markers, strict=True)]
    ds = assemble_store(datasets, out)
    engines = sorted({d.attrs["engine"] for d in datasets})
    provenance = {
        "explainer": json.dumps(explainer, sort_keys=True),
        "engine": ",".join(engines),
        "backbone_sha256": file_sha256(backbone),
        "head_sha256": file_sha256(head),
        "config_hash": config_hash,
        "versions": json.dumps({p: version(p) for p in ("facesimxai", "torch", "zennit", "zarr", "xarray")}),
        "convention": "relevance summed over colour channels; positive = evidence for the target",
    }
    write_store(ds, out, provenance, explain_cfg["chunk_trials"])
    faces = face_maps(ds, pd.read_parquet(manifest)["face_id"].to_numpy())
    with atomic_path(faces_out) as tmp:
        faces.to_zarr(tmp, mode="w", consolidated=True)
    log.info("heatmap store: %d trials, relevance %s %s, engines %s", ds.sizes["trial"],
             ds[RELEVANCE].dtype, tuple(ds[RELEVANCE].shape), ",".join(engines))
    return ds
