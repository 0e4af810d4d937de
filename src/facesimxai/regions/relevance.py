"""Per-region relevance scores of every heatmap, streamed from the Zarr store.

For each map and each of the 12 landmark regions of the face it explains, the scores and the
table layout of ``artifacts.region_tables``. A map's regions are those of the face at its
position: the target position, or each position of a store that keeps all three. Regions are
disjoint (``mask`` in ``regions/masks.zarr``), so region sums never double count.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from facesimxai.artifacts.heatmaps import (
    chunk_trials,
    map_size,
    open_heatmaps,
    read_face_maps,
    read_position_maps,
    trial_heads,
)
from facesimxai.artifacts.region_tables import METRICS
from facesimxai.io import open_zarr, write_parquet

log = logging.getLogger(__name__)



def region_metrics(maps: np.ndarray, masks: np.ndarray, area: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Scores of maps ``(n, H, W)`` over the regions of one face, ``masks (R, H, W)`` → ``(n, R)`` each.

    One matrix product per quantity keeps this fast for thousands of maps of the same face.
    A region with zero area gets NaN for ``mean``; a map with no relevance gets NaN shares.
    """
    flat = np.asarray(maps, np.float64).reshape(len(maps), -1)
    m = np.asarray(masks, np.float64).reshape(len(masks), -1).T  # (H·W, R)
    area = m.sum(axis=0) if area is None else np.asarray(area, np.float64)
    pos = np.clip(flat, 0, None)
    neg = np.clip(flat, None, 0)
    total_abs = (pos - neg).sum(axis=1, keepdims=True)
    s, ps, ns = flat @ m, pos @ m, neg @ m
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "sum": s,
            "mean": np.where(area > 0, s / area, np.nan),
            "pos_sum": ps,
            "neg_sum": ns,
            "share": np.where(total_abs > 0, s / total_abs, np.nan),
            "abs_share": np.where(total_abs > 0, (ps - ns) / total_abs, np.nan),
        }


def scores_by_face(maps: np.ndarray, face_ids: np.ndarray, masks: np.ndarray,
                   mask_index: dict[int, int]) -> dict[str, np.ndarray]:
    """Scores of maps of different faces: group the maps by face, one product per face."""
    out = {k: np.full((len(maps), masks.shape[1]), np.nan) for k in METRICS}
    for face in np.unique(face_ids):
        if int(face) not in mask_index:
            raise KeyError(f"face {int(face)} has heatmaps but no region masks in the masks store")
        rows = np.flatnonzero(face_ids == face)
        for k, v in region_metrics(maps[rows], masks[mask_index[int(face)]]).items():
            out[k][rows] = v
    return out


def _long_table(scores: dict[str, np.ndarray], index: pd.DataFrame, regions: list[str]) -> pd.DataFrame:
    """Rows = maps × regions, columns = the map's identifiers + one column per metric."""
    n, r = scores["sum"].shape
    table = index.loc[index.index.repeat(r)].reset_index(drop=True)
    table["region"] = pd.Categorical(np.tile(regions, n), categories=regions)
    for k in METRICS:
        table[k] = scores[k].reshape(-1)
    return table


def compute_region_relevance(store: Path | str, face_store: Path | str, masks: Path | str,
                             model: str, explainer: str, trials_out: Path | str,
                             faces_out: Path | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every heatmap of a store per region (streamed by store chunk) and every per-face mean map."""
    ds = open_heatmaps(store)
    mk = open_zarr(masks)
    regions = [str(r) for r in mk["region"].values]
    mask_arr = mk["mask"].to_numpy()
    mask_index = {int(f): i for i, f in enumerate(mk["face"].values)}
    if tuple(mask_arr.shape[-2:]) != map_size(ds):
        raise ValueError(f"{store}: heatmaps are {map_size(ds)} pixels but the region masks in "
                         f"{masks} are {mask_arr.shape[-2:]}; both must use backbone.input_size")
    chunk = chunk_trials(ds)
    n = ds.sizes["trial"]
    parts = []
    for start in tqdm(range(0, n, chunk), desc=f"region relevance {model}/{explainer}", unit="chunk"):
        stop = min(start + chunk, n)
        maps, positions = read_position_maps(ds, slice(start, stop))
        idx = ds.isel(trial=slice(start, stop))
        base = pd.DataFrame({"trial_id": idx["trial_id"].to_numpy(), "split": idx["split"].to_numpy().astype(str),
                             "target_pos": idx["target_pos"].to_numpy().astype(np.int8),
                             "pred_pos": idx["pred_pos"].to_numpy().astype(np.int8),
                             "human_odd": idx["human_odd"].to_numpy().astype(np.int8)})
        base = base.loc[base.index.repeat(positions.shape[1])].reset_index(drop=True)
        base["position"] = positions.reshape(-1).astype(np.int8)
        base["face_id"] = np.take_along_axis(trial_heads(idx), positions, axis=1).reshape(-1)
        maps = maps.reshape(-1, *maps.shape[-2:])
        parts.append(_long_table(scores_by_face(maps, base["face_id"].to_numpy(), mask_arr, mask_index), base, regions))
    trials = pd.concat(parts, ignore_index=True)
    trials.insert(0, "explainer", explainer)
    trials.insert(0, "model", model)

    face_ids, n_trials, fmaps = read_face_maps(face_store)
    base = pd.DataFrame({"face_id": face_ids, "n_trials": n_trials})
    faces = _long_table(scores_by_face(fmaps, face_ids, mask_arr, mask_index), base, regions)
    faces.insert(0, "explainer", explainer)
    faces.insert(0, "model", model)
    write_parquet(trials, trials_out, csv=True)
    write_parquet(faces, faces_out, csv=True)
    log.info("%s/%s: %d trial rows, %d face rows (faces never the target skipped)", model, explainer,
             len(trials), len(faces))
    return trials, faces
