"""Cached backbone outputs per analysis face, and VGG-MaxP's odd-one-out targets.

``results/models/core_features.zarr`` (xarray): ``core[face, unit]`` at ``last_core_layer`` (what
the triplet head sees; FrozenCore training reads it) and ``maxp[face, unit]`` at ``maxp_5_3``
(flattened; what the MaxP targets are computed from), coordinate ``face_id``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr

from facesimxai.data.faces import load_faces
from facesimxai.io import atomic_path, open_zarr, write_parquet
from facesimxai.models.backbone import load_backbone
from facesimxai.models.vgg import preprocess
from facesimxai.torch_utils import resolve_device

log = logging.getLogger(__name__)


@torch.no_grad()
def compute_core_features(backbone: Path | str, manifest: Path | str, last_core_layer: str,
                          device: str, out: Path | str, batch_size: int = 64) -> xr.Dataset:
    model, mode = load_backbone(backbone)
    dev = resolve_device(device)
    model = model.to(dev).eval()
    table, images = load_faces(manifest)
    x = preprocess(images, model.input_size, mode)
    core_parts, maxp_parts = [], []
    for s in range(0, len(x), batch_size):
        xb = x[s:s + batch_size].to(dev)
        core_parts.append(model(xb, until=last_core_layer).flatten(1).cpu())
        maxp_parts.append(model(xb, until="maxp_5_3").flatten(1).cpu())
    ds = xr.Dataset(
        {"core": (("face", "unit"), torch.cat(core_parts).numpy()),
         "maxp": (("face", "maxp_unit"), torch.cat(maxp_parts).numpy())},
        coords={"face_id": ("face", table["face_id"].to_numpy())},
        attrs={"last_core_layer": last_core_layer, "input_size": model.input_size,
               "preprocessing": mode},
    )
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    log.info("core features %s and maxp_5_3 features %s for %d faces",
             ds["core"].shape[1:], ds["maxp"].shape[1:], len(table))
    return ds


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True).clip(1e-12)


def maxp_odd(features: np.ndarray, heads: np.ndarray, rule: str) -> np.ndarray:
    """Odd position (0/1/2) of each triplet from backbone features, as FaceSim3D computes it.

    ``relative``: score_i = (s_ij + s_ik)/2 − s_jk with cosine similarities s; odd = argmin.
    ``centroid``: c = normalise(e_i + e_j + e_k); odd = argmax(1 − cos(e, c)).
    ``features`` is indexed by face_id − 1; ``heads`` are (n, 3) face ids in display order.
    """
    e = _unit(features[heads - 1])
    if rule == "relative":
        s = np.einsum("tik,tjk->tij", e, e)
        score = np.stack([(s[:, 0, 1] + s[:, 0, 2]) / 2 - s[:, 1, 2],
                          (s[:, 1, 0] + s[:, 1, 2]) / 2 - s[:, 0, 2],
                          (s[:, 2, 0] + s[:, 2, 1]) / 2 - s[:, 0, 1]], axis=1)
        return score.argmin(axis=1)
    if rule == "centroid":
        c = _unit(e.sum(axis=1))
        return (1 - np.einsum("tik,tk->ti", e, c)).argmax(axis=1)
    raise ValueError(f"unknown MaxP rule {rule!r} (config key models.maxp_rule)")


def compute_maxp_targets(features: Path | str, trials: Path | str, out: Path | str) -> pd.DataFrame:
    """Both MaxP targets for every trial, with their agreement with the human (or simulated) choice."""
    ds = open_zarr(features)
    order = np.argsort(ds["face_id"].to_numpy())
    maxp = ds["maxp"].to_numpy()[order]
    tr = pd.read_parquet(trials)
    heads = tr[["head1", "head2", "head3"]].to_numpy()
    table = pd.DataFrame({"trial_id": tr["trial_id"].to_numpy()})
    for rule in ("relative", "centroid"):
        table[f"maxp_{rule}_pos"] = maxp_odd(maxp, heads, rule).astype(np.int8)
    write_parquet(table, out)
    for rule in ("relative", "centroid"):
        agree = (table[f"maxp_{rule}_pos"].to_numpy() == tr["odd_pos"].to_numpy()).mean()
        log.info("MaxP %s target agrees with the recorded choice on %.3f of trials", rule, agree)
    return table
