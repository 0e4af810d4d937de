"""Interventional truth: exact Shapley values of each model's decision over the face-parameter groups.

Correlational references (a choice model fitted to a model's predictions) say which parameters
co-vary with its choices where it was trained; they cannot say what the model computes. Here the
renderer intervenes: a coalition ``S`` of groups keeps its parameters and every other group is set
to the mean face (0) **in all three faces at once**, the faces are re-rendered and the model's
contrastive decision (target logit minus the mean of the other two; target = the model's own
prediction on the intact triplet) is evaluated. Exact Shapley values over the 2^7 coalitions
(``facesimxai.shapley``) split that decision among the groups; they sum to the decision's change
from the all-mean triplet. The same game on the simulated observers' utilities (their mean
weights) gives what the observers' evidence says, and on the backbone's MaxP score what VGG-MaxP
was trained to imitate.

Faces: the first ``n_faces`` unseen faces (``data.unseen``), which no model saw; trials: seeded
random triplets of them. Each face is rendered once per coalition and embedded once; decisions
are then cheap head passes on cached features.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata
from tqdm import tqdm

from facesimxai.data.face_params import GROUPS, PARAMETERS
from facesimxai.data.observers import distance_scale, pair_features, parameter_weights
from facesimxai.data.render import RenderSettings
from facesimxai.data.synthetic import render_many
from facesimxai.data.unseen import load_unseen
from facesimxai.io import write_json, write_parquet
from facesimxai.models.backbone import load_backbone
from facesimxai.models.features import _unit
from facesimxai.models.probe import layer_features
from facesimxai.models.train import MODEL_SPECS, load_head, predict
from facesimxai.models.vgg import preprocess
from facesimxai.shapley import coalition_masks, exact_shapley
from facesimxai.torch_utils import resolve_device

log = logging.getLogger(__name__)

#: parameter → group index (the players).
GROUP_OF = np.array([GROUPS.index(p.group) for p in PARAMETERS])


def masked_parameters(params: np.ndarray) -> np.ndarray:
    """(n_faces, 2^G, P): each face's parameters under every coalition (absent groups → 0)."""
    keep = coalition_masks(len(GROUPS))[:, GROUP_OF]  # (2^G, P)
    return params[:, None, :] * keep[None]


def sample_triplets(n_faces: int, n_trials: int, seed: int) -> np.ndarray:
    """(n_trials, 3) distinct random triplets of face ids 1..n_faces in random display order."""
    rng = np.random.default_rng(seed)
    seen, out = set(), []
    limit = n_faces * (n_faces - 1) * (n_faces - 2) // 6
    while len(out) < min(n_trials, limit):
        t = rng.choice(n_faces, 3, replace=False) + 1
        key = tuple(sorted(t))
        if key not in seen:
            seen.add(key)
            out.append(t)
    return np.array(out, int)


def contrastive(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Target logit minus the mean of the other two; ``logits`` (..., 3), ``target`` broadcast to (...)."""
    t = np.take_along_axis(logits, target[..., None], -1)[..., 0]
    return t - (logits.sum(-1) - t) / 2


def coalition_features(params: np.ndarray, backbone: Path | str, layers: list[str], image_size: int,
                       device: str, workers: int, faces_per_chunk: int = 4) -> dict[str, np.ndarray]:
    """Features (n_faces, 2^G, F) of every face rendered under every coalition, per layer."""
    model, mode = load_backbone(backbone)
    dev = resolve_device(device)
    masked = masked_parameters(params)
    n_faces, n_coal = masked.shape[:2]
    out: dict[str, list[np.ndarray]] = {layer: [] for layer in layers}
    for s in tqdm(range(0, n_faces, faces_per_chunk), desc="coalition renders", unit="chunk"):
        chunk = masked[s:s + faces_per_chunk].reshape(-1, masked.shape[-1])
        images = render_many([(p, RenderSettings(), image_size, 0.0, 0) for p in chunk], workers, "render")
        feats = layer_features(model, preprocess(images, model.input_size, mode), layers, dev)
        for layer in layers:
            out[layer].append(feats[layer].reshape(-1, n_coal, feats[layer].shape[-1]))
    return {layer: np.concatenate(v) for layer, v in out.items()}


def head_game(head, feats: np.ndarray, heads: np.ndarray, batch: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A head's coalition values (n_trials, 2^G) and its target (prediction on the intact triplet)."""
    full = feats.shape[1] - 1
    n_coal = feats.shape[1]
    values, targets = [], []
    for s in range(0, len(heads), batch):
        h = heads[s:s + batch] - 1  # (b, 3)
        x = feats[h]  # (b, 3, 2^G, F)
        x = np.moveaxis(x, 2, 1).reshape(-1, 3, feats.shape[-1])  # (b · 2^G, 3, F)
        logits = predict(head, torch.from_numpy(x).float()).numpy().astype(np.float64).reshape(len(h), n_coal, 3)
        target = logits[:, full].argmax(-1)
        values.append(contrastive(logits, target[:, None]))
        targets.append(target)
    return np.concatenate(values), np.concatenate(targets)


def observer_game(masked: np.ndarray, heads: np.ndarray, target: np.ndarray, group_weights: dict,
                  temperature: float, scale: float) -> np.ndarray:
    """The mean observer's contrastive utility (n_trials, 2^G) for ``target``: −d²(pair)/(scale·T)."""
    w = parameter_weights(group_weights)
    values = np.empty((len(heads), masked.shape[1]))
    for m in range(masked.shape[1]):
        u = -(pair_features(masked[:, m], heads) @ w) / scale / temperature
        values[:, m] = contrastive(u, target)
    return values


def maxp_game(maxp: np.ndarray, heads: np.ndarray, target: np.ndarray, rule: str) -> np.ndarray:
    """The backbone's MaxP score as a logit (higher = more odd) per coalition, contrastive at ``target``."""
    e = _unit(maxp[heads - 1])  # (n, 3, 2^G, F)
    if rule == "relative":
        s = np.einsum("tick,tjck->tcij", e, e)
        score = np.stack([(s[..., 0, 1] + s[..., 0, 2]) / 2 - s[..., 1, 2],
                          (s[..., 1, 0] + s[..., 1, 2]) / 2 - s[..., 0, 2],
                          (s[..., 2, 0] + s[..., 2, 1]) / 2 - s[..., 0, 1]], axis=-1)
        logits = -score
    else:
        c = _unit(e.sum(axis=1))
        logits = np.moveaxis(1 - np.einsum("tick,tck->tic", e, c), 1, -1)
    return contrastive(logits.astype(np.float64), target[:, None])


def rowwise_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman ρ of each row of ``a`` with the same row of ``b`` (NaN where a row is constant)."""
    ra, rb = rankdata(a, axis=1), rankdata(b, axis=1)
    ra, rb = ra - ra.mean(1, keepdims=True), rb - rb.mean(1, keepdims=True)
    den = np.sqrt((ra**2).sum(1) * (rb**2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (ra * rb).sum(1) / den, np.nan)


def compare(phi: np.ndarray, ref: np.ndarray) -> dict:
    """Within-trial ρ (per trial across groups, mean over trials) and across-trial ρ (per group
    across trials, mean over groups) of ``phi`` against ``ref``, both (n_trials, G)."""
    within = rowwise_spearman(phi, ref)
    across = rowwise_spearman(phi.T, ref.T)
    return {"within_trial_rho": float(np.nanmean(within)), "across_trial_rho": float(np.nanmean(across)),
            "n_trials_with_rho": int(np.isfinite(within).sum())}


def run_interventional(backbone: Path | str, heads: dict[str, Path | str], unseen: Path | str,
                       observers_cfg: dict, cfg: dict, models_cfg: dict, image_size: int, device: str,
                       workers: int, out_json: Path | str, out_table: Path | str) -> dict:
    """The interventional rule → ``interventional.json`` and the per-trial parquet."""
    _, all_params = load_unseen(unseen)
    params = all_params[: cfg["n_faces"]]
    trials = sample_triplets(len(params), cfg["n_trials"], cfg["seed"])
    layers = sorted({load_head(p)[1]["last_core_layer"] for p in heads.values()} | {"maxp_5_3"})
    feats = coalition_features(params, backbone, layers, image_size, device, workers)
    masked = masked_parameters(params)
    scale = distance_scale(all_params, parameter_weights(observers_cfg["group_weights"]))
    result: dict = {"n_faces": int(len(params)), "n_trials": int(len(trials)), "groups": list(GROUPS),
                    "decision": "contrastive: target logit minus the mean of the other two; target = prediction",
                    "intervention": "groups outside the coalition set to the mean face in all three faces, re-rendered"}
    rows = []
    for name, path in heads.items():
        head, ckpt = load_head(path)
        values, target = head_game(head, feats[ckpt["last_core_layer"]], trials)
        if MODEL_SPECS[name]["target"] == "choice":
            ref_name = "observers"
            ref_values = observer_game(masked, trials, target, observers_cfg["group_weights"],
                                       observers_cfg["temperature"], scale)
        else:
            ref_name = "backbone_maxp"
            ref_values = maxp_game(feats["maxp_5_3"], trials, target, models_cfg["maxp_rule"])
        phi, ref_phi = exact_shapley(values), exact_shapley(ref_values)
        efficiency = np.abs(phi.sum(1) - (values[:, -1] - values[:, 0])).max()
        stats = compare(phi, ref_phi)
        result[name] = {
            "reference": ref_name,
            f"group_shapley_vs_{ref_name}_within_trial_rho": stats["within_trial_rho"],
            f"group_shapley_vs_{ref_name}_across_trial_rho": stats["across_trial_rho"],
            "n_trials_with_rho": stats["n_trials_with_rho"],
            "mean_abs_phi": dict(zip(GROUPS, np.abs(phi).mean(0).tolist(), strict=True)),
            f"{ref_name}_mean_abs_phi": dict(zip(GROUPS, np.abs(ref_phi).mean(0).tolist(), strict=True)),
            "decision_mean": float(values[:, -1].mean()), "efficiency_max_error": float(efficiency),
        }
        log.info("%s vs %s: within-trial ρ %.3f, across-trial ρ %.3f; mean |φ| %s", name, ref_name,
                 stats["within_trial_rho"], stats["across_trial_rho"],
                 ", ".join(f"{g} {v:.3f}" for g, v in result[name]["mean_abs_phi"].items()))
        for t in range(len(trials)):
            for g, group in enumerate(GROUPS):
                rows.append((name, t, *trials[t], int(target[t]), group, phi[t, g], ref_name, ref_phi[t, g]))
    write_json(result, out_json)
    write_parquet(pd.DataFrame(rows, columns=["model", "trial", "head1", "head2", "head3", "target_pos", "group",
                                              "phi", "reference", "reference_phi"]), out_table)
    return result
