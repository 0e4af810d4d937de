"""The explorer's trial table: one row per explained trial, with every model's prediction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import softmax

from facesimxai.artifacts import heatmaps


def model_predictions(store: xr.Dataset, model: str) -> pd.DataFrame:
    """trial_id, `<model>_pred` (odd position 0–2) and `<model>_conf` (softmax probability of it)."""
    trials = heatmaps.trial_table(store)
    pred = trials["pred_pos"].to_numpy().astype(np.int64)
    prob = softmax(heatmaps.read_logits(store), axis=1)[np.arange(len(pred)), pred]
    return pd.DataFrame({"trial_id": trials["trial_id"].to_numpy(), f"{model}_pred": pred, f"{model}_conf": prob})


def trial_table(stores: dict[str, xr.Dataset], vlm: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows of the trials every model's store holds; `stores` maps model → one of its stores.

    The human choice and the faces come from the store's own coordinates, so the table and the
    overlays cannot disagree about a trial. `vlm` (trial_id, vlm_pred) adds the VLM's answer.
    """
    if not stores:
        raise ValueError("the explorer needs at least one heatmap store")
    first = next(iter(stores.values()))
    coords = heatmaps.trial_table(first)
    base = coords[["trial_id", *heatmaps.HEAD_COORDS, "split"]].copy()
    base["human"] = coords["human_odd"].to_numpy().astype(np.int64)
    for model, store in stores.items():
        base = base.merge(model_predictions(store, model), on="trial_id", how="inner", validate="1:1")
    base["vlm_pred"] = np.nan
    if vlm is not None and len(vlm):
        base = base.drop(columns="vlm_pred").merge(vlm[["trial_id", "vlm_pred"]], on="trial_id", how="left")
    base["split"] = base["split"].astype(str)
    return base.sort_values("trial_id", kind="stable").reset_index(drop=True)


def select_for_viewer(table: pd.DataFrame, models: list[str], n: int) -> list[int]:
    """Trial ids that get overlays: models disagreeing first, then a model against the human, then
    the rest, each by trial id. Deterministic, and at most `n` (rendering is the costly part)."""
    preds = table[[f"{m}_pred" for m in models]].to_numpy()
    disagree = (preds != preds[:, :1]).any(axis=1)
    wrong = (preds != table["human"].to_numpy()[:, None]).any(axis=1)
    rank = np.where(disagree, 0, np.where(wrong, 1, 2))
    order = np.lexsort((table["trial_id"].to_numpy(), rank))
    return [int(t) for t in table["trial_id"].to_numpy()[order][:n]]
