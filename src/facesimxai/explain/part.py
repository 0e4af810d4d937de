"""One scatter part of the heatmap store: explain a disjoint range of trials with one explainer
and write it, with a marker holding its trial range and checksum (the layout and marker: artifacts.heatmaps)."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from facesimxai.artifacts.heatmaps import part_dataset, write_part
from facesimxai.data.faces import load_faces, trial_face_rows
from facesimxai.explain.decision_methods import DECISION_METHODS, decision_maps
from facesimxai.explain.engines import (
    OCCLUSION,
    REGION_SHAPLEY,
    ExplainSettings,
    TripletExplainer,
    choose_engine,
    select_positions,
)
from facesimxai.explain.occlusion import OcclusionSettings, black_fill, occlusion_maps
from facesimxai.explain.references import reference_faces
from facesimxai.explain.region_shapley import REST, region_players
from facesimxai.explain.triplet_function import from_triplet_model
from facesimxai.landmarks.masks import load_region_masks
from facesimxai.models.train import load_triplet_model
from facesimxai.models.vgg import preprocess
from facesimxai.torch_utils import resolve_device, seed_everything
from facesimxai.vocabulary import REGIONS

log = logging.getLogger(__name__)


def parse_scatteritem(item: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)-of-(\d+)", item)
    if not m:
        raise ValueError(f"scatter item {item!r} is not of the form 'i-of-n'")
    return int(m.group(1)), int(m.group(2))


def trials_to_explain(trials: Path | str, splits: list[str], max_trials: int | None = None,
                      seed: int = 0) -> pd.DataFrame:
    """The trials of ``splits`` in trial-id order; with ``max_trials``, a seeded random subset of
    that many (every scatter part draws the same subset, so the parts stay disjoint)."""
    tr = pd.read_parquet(trials)
    tr = tr[tr["split"].isin(splits)].sort_values("trial_id").reset_index(drop=True)
    if max_trials is not None and len(tr) > max_trials:
        keep = np.random.default_rng(seed).choice(len(tr), size=max_trials, replace=False)
        tr = tr.iloc[np.sort(keep)].reset_index(drop=True)
    return tr


def part_range(n_trials: int, part: int, n_parts: int) -> tuple[int, int]:
    """Disjoint, contiguous trial ranges covering all trials (part is 1-based)."""
    edges = np.linspace(0, n_trials, n_parts + 1).round().astype(int)
    return int(edges[part - 1]), int(edges[part])


def target_positions(trials: pd.DataFrame, target: str, maxp_targets: Path | str | None,
                     maxp_rule: str) -> np.ndarray | None:
    if target == "prediction":
        return None
    if target == "human":
        return trials["odd_pos"].to_numpy(np.int64)
    mt = pd.read_parquet(maxp_targets)
    merged = trials[["trial_id"]].merge(mt, on="trial_id", how="left", validate="1:1")
    return merged[f"maxp_{maxp_rule}_pos"].to_numpy(np.int64)


def explain_part(backbone: Path | str, head: Path | str, manifest: Path | str, trials: Path | str,
                 maxp_targets: Path | str | None, *, explainer: dict, explain_cfg: dict, maxp_rule: str,
                 scatteritem: str, device: str, threads: int, out: Path | str,
                 marker: Path | str, masks: Path | str | None = None, synthetic: bool = False) -> dict:
    """Explain one disjoint range of trials and write it as a part store plus its marker.

    ``masks`` (the region masks) are needed by region Shapley; ``synthetic`` makes the ``mean``
    reference the mean-parameter face instead of the stimulus set's pixel mean."""
    part, n_parts = parse_scatteritem(scatteritem)
    seed_everything(0, threads)
    settings = ExplainSettings(**explainer)
    dev = resolve_device(device)
    model, mode = load_triplet_model(backbone, head)
    table, images = load_faces(manifest)
    faces = preprocess(images, _input_size(backbone), mode)
    tr_all = trials_to_explain(trials, explain_cfg["splits"], explain_cfg.get("max_trials"),
                               explain_cfg.get("seed", 0))
    lo, hi = part_range(len(tr_all), part, n_parts)
    tr = tr_all.iloc[lo:hi].reset_index(drop=True)
    heads = trial_face_rows(table["face_id"], tr)
    tpos = target_positions(tr, settings.target, maxp_targets, maxp_rule)
    n_faces = len(np.unique(heads)) if len(tr) else 0
    engine = choose_engine(explain_cfg["engine"], len(tr), n_faces, model.head.width, settings.method)
    t0 = time.perf_counter()
    extra, coords_extra = {}, {}
    if engine == OCCLUSION:
        fn = from_triplet_model(model, dev, explain_cfg["batch_size"] * 3)
        occ = OcclusionSettings(**{k: v for k, v in (("patches", settings.patches), ("stride", settings.stride),
                                                     ("blur", settings.blur)) if v is not None})
        maps, logits, target, sim = occlusion_maps(fn, faces, heads, black_fill(faces.shape[-1], mode), occ, tpos,
                                                   settings.positions, progress=lambda x: tqdm(x, desc="occlusion"))
        if sim is not None:
            extra["similarity_drop"] = (("trial", "other", "y", "x"), sim.numpy().astype(np.float32))
    elif engine in DECISION_METHODS:
        fn = from_triplet_model(model, dev, explain_cfg["batch_size"] * 4)
        refs = reference_faces(images, faces, settings.baseline, synthetic, faces.shape[-1], mode)
        players = None
        if engine == REGION_SHAPLEY:
            if masks is None:
                raise ValueError("region_shapley needs the region masks (regions/masks.zarr)")
            players = region_players(load_region_masks(masks, table["face_id"].to_numpy(), faces.shape[-1])[0])
            coords_extra["player"] = np.array([*REGIONS, REST], object)
        maps, logits, target, extra = decision_maps(settings, fn, faces, refs, heads, tpos, players,
                                                    progress=lambda x: tqdm(x, desc=engine, leave=False))
        maps, logits, target = torch.from_numpy(maps), torch.from_numpy(logits), torch.from_numpy(target)
    else:
        ex = TripletExplainer(model, settings, mode, dev, explain_cfg["batch_size"], explain_cfg["basis_batch"])
        maps, logits, target = _run_engine(ex, engine, faces, heads, tpos, settings.positions)
    seconds = time.perf_counter() - t0
    ds = part_dataset(maps.numpy().astype(np.dtype(explain_cfg["dtype"])), logits.numpy(), target.numpy(), tr,
                      part=part, n_parts=n_parts, trial_range=(lo, hi), engine=engine,
                      extra_vars=extra, extra_coords=coords_extra)
    info = write_part(ds, out, marker, seconds=seconds)
    log.info("part %d/%d: %d trials with the %s engine in %.1f s", part, n_parts, hi - lo, engine, seconds)
    return info


def _input_size(backbone: Path | str) -> int:
    return int(torch.load(backbone, map_location="cpu", weights_only=True)["input_size"])


def _run_engine(ex: TripletExplainer, engine: str, faces: torch.Tensor, heads: np.ndarray,
                target_pos, positions: str):
    if len(heads) == 0:
        h, w = faces.shape[-2:]
        shape = (0, h, w) if positions == "target" else (0, 3, h, w)
        return torch.zeros(shape), torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)
    if engine == "factorized":
        return ex.factorized(faces, heads, target_pos, positions)
    run = ex.naive if engine == "naive" else ex.direct
    maps, logits, target = [], [], []
    step = 256  # bound memory: triplet pixels for this many trials at a time
    for s in tqdm(range(0, len(heads), step), desc=f"{engine} LRP", leave=False):
        tp = None if target_pos is None else target_pos[s:s + step]
        m, lg, tg = run(faces[torch.from_numpy(heads[s:s + step])], tp)
        maps.append(select_positions(m, tg) if positions == "target" else m)
        logits.append(lg)
        target.append(tg)
    return torch.cat(maps), torch.cat(logits), torch.cat(target)
