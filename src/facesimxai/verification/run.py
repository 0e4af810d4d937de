"""The verification stage's torch entry points: scores, thresholds, C-Scores and error rates →
X-Maps of a sample of pairs → region tables → the truth check (the pairs themselves:
``pairs.build_pairs``, torch-free for the analysis env). Each loads its inputs, calls the pure
functions of this package and writes its outputs.

``verification/faces.zarr``: ``image[image, y, x, channel]`` (uint8 at ``image_size``),
``identity[image]`` and ``name[image]`` (the LFW relative path, or ``synthetic/<identity>_<k>``).
``verification/pairs.parquet``: ``pair_id, fold, a, b, genuine`` (a, b index ``image``), plus
``line`` for a pairs file. ``verification/scores.parquet``: per pair its cosine ``similarity``,
the fold's ``threshold`` (chosen on the other folds), ``accepted``, ``correct`` and ``c_score``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
from scipy.integrate import trapezoid
from tqdm import tqdm

from facesimxai.errors import InputError
from facesimxai.io import atomic_path, open_zarr, write_json, write_parquet
from facesimxai.torch_utils import seed_everything
from facesimxai.verification.calibration import cross_fold_c_scores, cross_fold_thresholds
from facesimxai.verification.metrics import per_fold_metrics
from facesimxai.verification.xmaps import cosine_distance

log = logging.getLogger(__name__)


def load_embedder(backbone: Path | str, layer: str, device: str):
    """(embed, input size, preprocessing) of the backbone: ``embed`` maps preprocessed images
    (n, C, S, S) to their flattened outputs at ``layer`` (what every verification rule compares)."""
    from facesimxai.models.backbone import load_backbone
    from facesimxai.torch_utils import resolve_device

    model, mode = load_backbone(backbone)
    dev = resolve_device(device)
    model = model.to(dev).eval()

    @torch.no_grad()
    def embed(x: torch.Tensor) -> torch.Tensor:
        return model(x.to(dev), until=layer).flatten(1)

    return embed, model.input_size, mode


def embed_images(backbone: Path | str, images: np.ndarray, layer: str, device: str,
                 batch_size: int = 64) -> np.ndarray:
    """(n, D) float64 backbone outputs at ``layer`` for uint8 images (n, H, W, 3)."""
    from facesimxai.models.vgg import preprocess

    embed, size, mode = load_embedder(backbone, layer, device)
    return np.concatenate([embed(preprocess(images[s:s + batch_size], size, mode)).double().cpu().numpy()
                           for s in tqdm(range(0, len(images), batch_size), desc="embed", unit="batch")])


def score_pairs(*, backbone: Path | str, faces: Path | str, pairs: Path | str, cfg: dict, layer: str,
                device: str, scores_out: Path | str, metrics_out: Path | str, threads: int = 1) -> dict:
    """Similarity of every pair, the fold-wise threshold and decision, C-Scores and error rates."""
    seed_everything(0, threads)
    ds = open_zarr(faces)
    table = pd.read_parquet(pairs)
    emb = embed_images(backbone, ds["image"].to_numpy(), layer, device)
    sim = 1.0 - cosine_distance(emb[table["a"].to_numpy()], emb[table["b"].to_numpy()])
    genuine, folds = table["genuine"].to_numpy(bool), table["fold"].to_numpy()
    threshold = cross_fold_thresholds(sim, genuine, folds)
    accepted = sim >= threshold
    correct = accepted == genuine
    c_score, clipped = cross_fold_c_scores(sim, genuine, folds, threshold, cfg["c_score_bins"])
    scores = table[["pair_id", "fold", "a", "b", "genuine"]].assign(
        similarity=sim, threshold=threshold, accepted=accepted, correct=correct, c_score=c_score)
    metrics = per_fold_metrics(sim, genuine, folds)
    for f, m in metrics["folds"].items():
        rows = folds == int(f)
        m["accuracy"] = float(correct[rows].mean())
        m["threshold"] = float(threshold[rows][0])
    metrics["pooled"]["accuracy"] = float(correct.mean())
    metrics.update({
        "layer": layer, "n_pairs": len(table), "score": "cosine similarity (accept when ≥ threshold)",
        "threshold": "per fold: the accuracy-maximising threshold on the other folds (LFW protocol)",
        "c_score": {"bins": cfg["c_score_bins"], "mean": float(np.mean(c_score)),
                    "mean_correct": float(np.mean(c_score[correct])) if correct.any() else None,
                    "mean_wrong": float(np.mean(c_score[~correct])) if (~correct).any() else None,
                    "clipped_to_half": int(clipped)},
    })
    write_parquet(scores, scores_out)
    write_json(metrics, metrics_out)
    log.info("verification at %s: AUC %.3f, EER %.3f, accuracy %.3f", layer, metrics["pooled"]["auc"],
             metrics["pooled"]["eer"], metrics["pooled"]["accuracy"])
    return metrics


def xmap_sample(scores: pd.DataFrame, n_pairs: int) -> pd.DataFrame:
    """The pairs that get X-Maps: the least confident genuine and impostor pairs (half each), the
    cases a reviewer would look at first; deterministic (ties by pair id)."""
    picked = [g.sort_values(["c_score", "pair_id"]).head((n_pairs + 1 - k) // 2)
              for k, (_, g) in enumerate(scores.groupby("genuine", sort=False))]
    return pd.concat(picked).sort_values("pair_id").reset_index(drop=True)


def xmap_pairs(*, backbone: Path | str, faces: Path | str, scores: Path | str, cfg: dict, baseline: str,
               layer: str, device: str, out: Path | str, faithfulness_out: Path | str,
               threads: int = 1) -> xr.Dataset:
    """X-Maps (methods of ``cfg['methods']``) of the sampled pairs, each image's occluded
    embeddings computed once (``xmap[pair, method, side, y, x]`` in [-1, 1]), and their
    faithfulness: deletion and insertion curves of the pair's similarity against a random order."""
    from facesimxai.explain.occlusion import OcclusionSettings, black_fill
    from facesimxai.faithfulness.maps import baseline_faces
    from facesimxai.models.vgg import preprocess
    from facesimxai.verification.xmaps import occluded_embeddings, similarity_curves, xmaps

    seed_everything(cfg["seed"], threads)
    sample = xmap_sample(pd.read_parquet(scores), cfg["n_pairs"])
    images = open_zarr(faces)["image"]
    embed, size, mode = load_embedder(backbone, layer, device)
    fill = black_fill(size, mode)
    geometry = OcclusionSettings(patches=tuple(cfg["patches"]), stride=cfg["stride"], blur=True)

    cache = {}
    for i in tqdm(np.unique(sample[["a", "b"]].to_numpy()), desc="occluded embeddings", unit="image"):
        x = preprocess(images[int(i)].to_numpy()[None], size, mode)[0]
        cache[int(i)] = occluded_embeddings(embed, x, fill, geometry)
    methods = list(cfg["methods"])
    maps = np.zeros((len(sample), len(methods), 2, size, size), np.float32)
    steps = cfg["faithfulness_steps"]
    curves = np.zeros((len(sample), len(methods) + 1, 2, steps + 1))  # last "method": random order
    rng = np.random.default_rng(cfg["seed"])
    for p, (a, b) in enumerate(tqdm(sample[["a", "b"]].to_numpy(), desc="X-Maps", unit="pair")):
        x = [preprocess(images[int(i)].to_numpy()[None], size, mode)[0] for i in (a, b)]
        base = tuple(baseline_faces(torch.stack(x), baseline, mode))
        for m, method in enumerate(methods):
            maps[p, m] = np.stack(xmaps(cache[int(a)], cache[int(b)], method))
            orders = tuple(np.argsort(-maps[p, m, side].ravel(), kind="stable") for side in (0, 1))
            curves[p, m] = np.stack(similarity_curves(embed, tuple(x), base, orders, steps))
        orders = tuple(rng.permutation(size * size) for _ in (0, 1))
        curves[p, -1] = np.stack(similarity_curves(embed, tuple(x), base, orders, steps))
    areas = trapezoid(curves, dx=1 / steps, axis=-1)  # (pair, method + random, deletion/insertion)
    ds = xr.Dataset({"xmap": (("pair", "method", "side", "y", "x"), maps),
                     "similarity_curve": (("pair", "order", "curve", "step"), curves.astype(np.float32))},
                    coords={"pair_id": ("pair", sample["pair_id"].to_numpy()), "method": methods,
                            "a": ("pair", sample["a"].to_numpy()), "b": ("pair", sample["b"].to_numpy()),
                            "order": np.array([*(f"method_{m}" for m in methods), "random"], object),
                            "curve": np.array(["deletion", "insertion"], object)},
                    attrs={"layer": layer, "patches": list(cfg["patches"]), "stride": cfg["stride"],
                           "convention": "positive = similar: occluding the patch raised the cosine distance",
                           "curves": f"cosine similarity with the most similar pixels first replaced by the "
                                     f"{baseline} baseline (deletion) or restored into it (insertion), "
                                     f"both images at once; random: a seeded random order"})
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    summary = {"n_pairs": len(sample), "steps": steps, "baseline": baseline,
               "faithful_if": "deletion area below random's and insertion area above it",
               "per_order": {str(o): {"deletion_area": float(areas[:, k, 0].mean()),
                                      "insertion_area": float(areas[:, k, 1].mean()),
                                      "deletion_below_random": float(np.mean(areas[:, k, 0] < areas[:, -1, 0])),
                                      "insertion_above_random": float(np.mean(areas[:, k, 1] > areas[:, -1, 1]))}
                             for k, o in enumerate(ds["order"].values)}}
    write_json(summary, faithfulness_out)
    log.info("X-Maps of %d pairs from %d images' occluded embeddings", len(sample), len(cache))
    for o, v in summary["per_order"].items():
        log.info("%s: deletion area %.3f, insertion area %.3f", o, v["deletion_area"], v["insertion_area"])
    return ds


def truth_check(*, backbone: Path | str, cfg: dict, xmaps_cfg: dict, image_size: int, layer: str, device: str,
                table_out: Path | str, summary_out: Path | str, workers: int = 1) -> dict:
    """X-Maps of impostor pairs that differ in one parameter group, scored against the pixels the
    renderer changed (``verification.truth``): hit rate and dissimilar share per method and group."""
    from facesimxai.explain.occlusion import OcclusionSettings, black_fill
    from facesimxai.models.vgg import preprocess
    from facesimxai.verification.truth import change_mask, single_group_pairs, truth_scores
    from facesimxai.verification.xmaps import occluded_embeddings, xmaps

    seed_everything(cfg["seed"], workers)
    bases, changed, table = single_group_pairs(cfg["n_bases"], cfg["seed"], image_size, workers)
    embed, size, mode = load_embedder(backbone, layer, device)
    fill = black_fill(size, mode)
    geometry = OcclusionSettings(patches=tuple(xmaps_cfg["patches"]), stride=cfg["stride"] or xmaps_cfg["stride"],
                                 blur=True)

    def occluded(img: np.ndarray):
        return occluded_embeddings(embed, preprocess(img[None], size, mode)[0], fill, geometry)

    base_emb = [occluded(b) for b in tqdm(bases, desc="base faces", unit="face")]
    rows = []
    for k, row in tqdm(table.iterrows(), total=len(table), desc="single-group pairs", unit="pair"):
        other = occluded(changed[k])
        mask = change_mask(bases[row["base"]], changed[k], size)
        distance = float(cosine_distance(base_emb[row["base"]].intact, other.intact))
        for method in xmaps_cfg["methods"]:
            for side, smap in enumerate(xmaps(base_emb[row["base"]], other, method)):
                rows.append({"base": row["base"], "group": row["group"], "method": method, "side": "AB"[side],
                             "cosine_distance": distance, **truth_scores(smap, mask)})
    df = pd.DataFrame(rows)
    per = (df.groupby(["method", "group"])[["hit", "dissimilar_share", "area_share"]].mean()
           .reset_index())
    summary = {
        "n_bases": cfg["n_bases"], "groups": sorted(df["group"].unique()), "stride": geometry.stride,
        "truth": "pixels that differ between the base render and the one-group change, at model input size",
        "hit": "the X-Map's minimum (most dissimilar) lies in the changed pixels",
        "per_method": {int(m): {"hit_rate": float(g["hit"].mean()),
                                "dissimilar_share": float(g["dissimilar_share"].mean()),
                                "area_share": float(g["area_share"].mean())} for m, g in df.groupby("method")},
        "per_method_group": per.to_dict(orient="records"),
    }
    write_parquet(df, table_out)
    write_json(summary, summary_out)
    for m, s in summary["per_method"].items():
        log.info("X-Maps method %d: hit rate %.2f, dissimilar share %.2f in %.2f of the area", m, s["hit_rate"],
                 s["dissimilar_share"], s["area_share"])
    return summary


def explain_pairs(*, backbone: Path | str, faces: Path | str, landmarks: Path | str, scores: Path | str,
                  regions_file: Path | str, regions_cfg: dict, baseline: str, n_pairs: int, layer: str,
                  device: str, table_out: Path | str, sentences_out: Path | str, threads: int = 1) -> pd.DataFrame:
    """Seed 004's region table (five techniques × 12 regions) and a sentence for each pair of the
    X-Map sample; pairs with an image without a face mesh are listed with the reason instead."""
    from facesimxai.faithfulness.maps import baseline_faces
    from facesimxai.landmarks.region_definitions import load_regions
    from facesimxai.models.vgg import preprocess
    from facesimxai.verification.regions import PairScorer, image_region_masks, pair_region_table, pair_sentence

    seed_everything(0, threads)
    table = pd.read_parquet(scores)
    sample = xmap_sample(table, n_pairs)
    images = open_zarr(faces)["image"]
    mesh = open_zarr(landmarks)
    embed, size, mode = load_embedder(backbone, layer, device)
    if int(mesh.attrs["input_size"]) != size:
        raise InputError(f"{landmarks}: face mesh in {mesh.attrs['input_size']} px, but the backbone takes "
                         f"{size} px (config key backbone.input_size); re-run rule verification_landmarks")
    names = load_regions(regions_file).names

    ids = np.unique(sample[["a", "b"]].to_numpy())
    pts = mesh["landmarks"].to_numpy()[ids]
    masks = dict(zip(ids.tolist(), image_region_masks(pts, size, regions_file, regions_cfg["priority"],
                                                      regions_cfg["margin"]), strict=True))
    found = dict(zip(ids.tolist(), np.isfinite(pts).all(axis=(1, 2)).tolist(), strict=True))
    x = {int(i): preprocess(images[int(i)].to_numpy()[None], size, mode) for i in ids}
    base = {i: baseline_faces(v, baseline, mode)[0] for i, v in x.items()}
    rows, sentences = [], []
    for _, pair in tqdm(sample.iterrows(), total=len(sample), desc="pair regions", unit="pair"):
        a, b = int(pair["a"]), int(pair["b"])
        if not (found[a] and found[b]):
            sentences.append({"pair_id": int(pair["pair_id"]), "sentence": None,
                              "reason": "no face mesh on " + " and ".join(str(i) for i in (a, b) if not found[i])})
            continue
        scorer = PairScorer(embed, (x[a][0], x[b][0]), (base[a], base[b]), (masks[a], masks[b]))
        regions = pair_region_table(scorer, list(names)).assign(pair_id=int(pair["pair_id"]))
        rows.append(regions)
        sentences.append({"pair_id": int(pair["pair_id"]), "sentence": pair_sentence(pair, regions), "reason": None})
    out = (pd.concat(rows, ignore_index=True)[["pair_id", "technique", "region", "importance"]] if rows
           else pd.DataFrame(columns=["pair_id", "technique", "region", "importance"]))
    write_parquet(out, table_out)
    write_parquet(pd.DataFrame(sentences), sentences_out)
    log.info("region tables for %d of %d sampled pairs", len(rows), len(sample))
    return out
