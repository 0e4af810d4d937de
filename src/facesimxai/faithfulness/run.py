"""Rules faithfulness (per model) and cross_masking: which explanation can we trust?"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from facesimxai.data.faces import load_faces, trial_face_rows
from facesimxai.data.sampling import sample_held_out
from facesimxai.explain.decision_methods import DECISION_METHODS
from facesimxai.explain.references import reference_faces
from facesimxai.explain.region_shapley import region_players
from facesimxai.explain.triplet_function import TripletFunction, backbone_similarity, from_triplet_model
from facesimxai.faithfulness.maps import baseline_faces, explainers_under_test, sample_maps
from facesimxai.faithfulness.perturbation import aopc, area, pixel_curves, region_curves
from facesimxai.faithfulness.region_removal import RegionScorer, region_importances
from facesimxai.io import write_parquet
from facesimxai.landmarks.masks import load_region_masks
from facesimxai.models.backbone import load_backbone
from facesimxai.models.train import load_triplet_model
from facesimxai.models.vgg import preprocess
from facesimxai.torch_utils import resolve_device, seed_everything

log = logging.getLogger(__name__)


def _sample(trials: Path | str, manifest: Path | str, cfg: dict, input_size: int, preprocessing: str):
    """Sampled held-out trials, preprocessed faces and the trials' face indices (T, 3)."""
    sample = sample_held_out(pd.read_parquet(trials), list(cfg["splits"]), int(cfg["n_trials"]), int(cfg["seed"]),
                             "faithfulness.splits")
    table, images = load_faces(manifest)
    faces = preprocess(images, input_size, preprocessing)
    return sample, table, faces, trial_face_rows(table["face_id"], sample)


def run_faithfulness(backbone: Path | str, head: Path | str, manifest: Path | str, trials: Path | str,
                     masks: Path | str, *, model_name: str, cfg: dict, explainers: dict[str, dict], device: str,
                     threads: int, scores_out: Path | str, curves_out: Path | str, regions_out: Path | str,
                     synthetic: bool = False) -> dict:
    """Perturbation curves of every explainer and region-removal importances on held-out trials."""
    seed_everything(int(cfg["seed"]), threads)
    dev = resolve_device(device)
    model, mode = load_triplet_model(backbone, head)
    size = int(torch.load(backbone, map_location="cpu", weights_only=True)["input_size"])
    sample, table, faces, heads = _sample(trials, manifest, cfg, size, mode)
    fn = from_triplet_model(model, dev, name=model_name)
    trip = fn.embed(faces)[torch.from_numpy(heads)]
    target = fn.logits(trip).argmax(1).cpu()
    t_face = heads[np.arange(len(heads)), target.numpy()]
    baseline = baseline_faces(faces, cfg["baseline"], mode)
    mask_array, regions = load_region_masks(masks, table["face_id"].to_numpy(), size)
    masks_by_face = torch.from_numpy(mask_array)
    ids = sample["trial_id"].to_numpy()
    decision_inputs = {}
    if any(sp["method"] in DECISION_METHODS for sp in explainers.values()):
        images = load_faces(manifest)[1]
        kinds = {sp.get("baseline", "mean") for sp in explainers.values() if sp["method"] in DECISION_METHODS}
        refs = {k: reference_faces(images, faces, k, synthetic, size, mode) for k in kinds}
        decision_inputs = {"players": region_players(mask_array), "references": refs}
    scores, curves, region_rows = [], [], []
    timings = {}
    for name, settings in explainers_under_test(explainers, cfg.get("occlusion")).items():
        t0 = time.perf_counter()
        extra = {}
        if settings["method"] in DECISION_METHODS:
            extra = {"players": decision_inputs["players"],
                     "references": decision_inputs["references"][settings.get("baseline", "mean")]}
        maps = sample_maps(name, settings, model, fn, faces, heads, ids, mode, dev, int(cfg["seed"]), **extra)
        timings[name] = time.perf_counter() - t0
        for t in tqdm(range(len(ids)), desc=f"faithfulness {model_name} {name}", leave=False):
            f, tg = t_face[t], target[t]
            dele, ins = pixel_curves(fn, faces[f], baseline[f], maps[t], trip[t], tg, cfg["steps"], cfg["score"])
            morf, lerf = region_curves(fn, faces[f], baseline[f], maps[t], trip[t], tg, cfg["grid"], cfg["steps"],
                                       cfg["score"])
            scores.append({"model": model_name, "explainer": name, "method": settings["method"], "trial_id": ids[t],
                           "deletion_auc": area(dele), "insertion_auc": area(ins), "morf_aopc": aopc(morf),
                           "lerf_aopc": aopc(lerf), "abpc": aopc(morf) - aopc(lerf)})
            for kind, curve in (("deletion", dele), ("insertion", ins), ("morf", morf), ("lerf", lerf)):
                curves += [{"model": model_name, "explainer": name, "trial_id": ids[t], "curve": kind, "step": k,
                            "fraction": k / (len(curve) - 1), "score": float(v)} for k, v in enumerate(curve)]
            sums = (torch.from_numpy(maps[t]) * masks_by_face[f]).sum(dim=(-2, -1)).numpy()
            region_rows += [{"model": model_name, "trial_id": ids[t], "source": name, "region": r,
                             "importance": float(v)} for r, v in zip(regions, sums, strict=True)]
    t0 = time.perf_counter()
    scorers: dict[int, RegionScorer] = {}
    for t in tqdm(range(len(ids)), desc=f"region removal {model_name}", leave=False):
        f = int(t_face[t])
        scorer = scorers.setdefault(f, RegionScorer(fn, faces[f], baseline[f], masks_by_face[f]))
        for technique, imp in region_importances(scorer, trip[t], target[t], cfg["score"]).items():
            region_rows += [{"model": model_name, "trial_id": ids[t], "source": technique, "region": r,
                             "importance": float(v)} for r, v in zip(regions, imp, strict=True)]
    timings["region_removal"] = time.perf_counter() - t0
    write_parquet(pd.DataFrame(scores), scores_out, csv=True)
    write_parquet(pd.DataFrame(curves), curves_out)
    write_parquet(pd.DataFrame(region_rows), regions_out)
    log.info("%s: %d held-out trials, %d explainers; seconds per explainer %s", model_name, len(ids),
             len(timings) - 1, {k: round(v, 2) for k, v in timings.items()})
    return timings


def mask_top(faces: torch.Tensor, baseline: torch.Tensor, maps: np.ndarray, fraction: float) -> torch.Tensor:
    """Faces (N, C, H, W) with their top ``fraction`` pixels by map (most positive first) replaced."""
    n = faces.shape[-1] * faces.shape[-2]
    k = int(round(fraction * n))
    flat = maps.reshape(len(maps), -1)
    top = np.argsort(-flat, axis=1, kind="stable")[:, :k]
    keep = np.ones_like(flat, bool)
    np.put_along_axis(keep, top, False, axis=1)
    keep = torch.from_numpy(keep.reshape(maps.shape)).unsqueeze(1)
    return torch.where(keep, faces, baseline)


def predict_masked(fn: TripletFunction, masked: torch.Tensor) -> np.ndarray:
    """Predicted odd position of triplets whose (T·3) faces are given in slot order."""
    emb = fn.embed(masked)
    return fn.logits(emb.reshape(len(masked) // 3, 3, -1)).argmax(1).cpu().numpy()


def run_masking(backbone: Path | str, heads: dict[str, Path | str], manifest: Path | str, trials: Path | str,
                cfg: dict, explainer: dict, device: str, threads: int, out: Path | str, *,
                masks: Path | str | None = None, synthetic: bool = False) -> pd.DataFrame:
    """Mask the top x% pixels of every face by model A's relevance; how often does model B's
    decision change, and how much does its accuracy against the human choice drop?"""
    seed_everything(int(cfg["seed"]), threads)
    dev = resolve_device(device)
    vgg, mode = load_backbone(backbone)
    sample, _, faces, idx = _sample(trials, manifest, cfg, vgg.input_size, mode)
    models = {name: load_triplet_model(backbone, path)[0] for name, path in heads.items()}
    fns = {name: from_triplet_model(m, dev, name=name) for name, m in models.items()}
    fns["backbone"] = backbone_similarity(vgg, dev)
    ids, human = sample["trial_id"].to_numpy(), sample["odd_pos"].to_numpy()
    baseline = baseline_faces(faces, cfg["baseline"], mode)
    flat_faces, flat_base = faces[torch.from_numpy(idx.ravel())], baseline[torch.from_numpy(idx.ravel())]
    extra = {}
    if explainer["method"] in DECISION_METHODS:  # region Shapley / integrated gradients
        images = load_faces(manifest)[1]
        face_ids = pd.read_parquet(manifest)["face_id"].to_numpy()
        extra = {"references": reference_faces(images, faces, explainer.get("baseline", "mean"), synthetic,
                                               vgg.input_size, mode),
                 "players": region_players(load_region_masks(masks, face_ids, vgg.input_size)[0])
                 if masks else None}
    sources = {}
    for name, fn in fns.items():
        settings = explainer if name in models else {"method": "gradient_x_input"}
        sources[name] = sample_maps(name, settings, models.get(name), fn, faces, idx, ids, mode, dev,
                                    int(cfg["seed"]), positions="all", **(extra if name in models else {}))
    sources["random"] = sample_maps("random", {"method": "random"}, None, fns["backbone"], faces, idx, ids, mode, dev,
                                    int(cfg["seed"]), positions="all")
    unmasked = {name: predict_masked(fn, flat_faces) for name, fn in fns.items()}
    rows = []
    for fraction in cfg["fractions"]:
        for src, maps in sources.items():
            masked = mask_top(flat_faces, flat_base, maps.reshape(-1, *maps.shape[-2:]), fraction)
            for name, fn in fns.items():
                pred = predict_masked(fn, masked)
                rows.append({"source": src, "evaluated": name, "fraction": fraction, "n": len(ids),
                             "accuracy_unmasked": float((unmasked[name] == human).mean()),
                             "accuracy": float((pred == human).mean()),
                             "flip_rate": float((pred != unmasked[name]).mean())})
    table = pd.DataFrame(rows)
    table["accuracy_drop"] = table["accuracy_unmasked"] - table["accuracy"]
    write_parquet(table, out, csv=True)
    log.info("cross-model masking: %d sources × %d models × %d fractions on %d held-out trials",
             len(sources), len(fns), len(cfg["fractions"]), len(ids))
    return table
