"""What the backbone encodes: cross-validated ridge from a layer's features to each face-parameter
group, on unseen synthetic faces.

A head can only use what its core encodes. If skin tone and hair colour are all the core keeps,
no training of the head makes it weigh eyes and mouth as the observers do, and every explanation
of it is bound to point at skin and hair. The same probe on the raw input pixels is the ceiling.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import RidgeCV
from sklearn.metrics import r2_score
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from facesimxai.data.face_params import GROUPS, PARAMETERS
from facesimxai.data.unseen import load_unseen
from facesimxai.io import write_json
from facesimxai.models.backbone import load_backbone
from facesimxai.models.vgg import preprocess
from facesimxai.numerics import pinned_blas
from facesimxai.torch_utils import resolve_device

log = logging.getLogger(__name__)

#: Ridge penalties searched by RidgeCV (leave-one-out inside each training fold).
ALPHAS = np.logspace(-2, 6, 17)


def parameter_r2(features: np.ndarray, params: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Out-of-fold R² of a standardised ridge regression from ``features`` to each parameter."""
    model = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS))
    folds = KFold(n_folds, shuffle=True, random_state=seed)
    with pinned_blas():
        pred = cross_val_predict(model, features.astype(np.float64), params, cv=folds)
    return np.array([r2_score(params[:, j], pred[:, j]) for j in range(params.shape[1])])


def group_r2(r2: np.ndarray) -> dict[str, float]:
    """Mean R² of each group's parameters (``face_params.GROUPS`` order)."""
    return {g: float(np.mean([r2[j] for j, p in enumerate(PARAMETERS) if p.group == g])) for g in GROUPS}


@torch.no_grad()
def layer_features(model, x: torch.Tensor, layers: list[str], device: torch.device,
                   batch: int = 64) -> dict[str, np.ndarray]:
    """Flattened outputs of each backbone layer for inputs ``x`` (batched on ``device``)."""
    model = model.to(device).eval()
    parts: dict[str, list[torch.Tensor]] = {layer: [] for layer in layers}
    for s in range(0, len(x), batch):
        xb = x[s:s + batch].to(device)
        for layer in layers:
            parts[layer].append(model(xb, until=layer).flatten(1).cpu())
    return {layer: torch.cat(p).numpy() for layer, p in parts.items()}


def run_probe(backbone: Path | str, unseen: Path | str, last_core_layer: str, cfg: dict, device: str,
              out: Path | str) -> dict:
    """The probe rule → ``probe.json``: ``{layer: {group: R², ...}, "n_faces": N, ...}`` for the core
    layer, ``maxp_5_3`` and ``pixels`` (the model's input, the ceiling)."""
    model, mode = load_backbone(backbone)
    images, params = load_unseen(unseen)
    x = preprocess(images, model.input_size, mode)
    layers = list(dict.fromkeys([last_core_layer, "maxp_5_3"]))
    feats = layer_features(model, x, layers, resolve_device(device))
    feats["pixels"] = x.flatten(1).numpy()
    result: dict = {}
    per_parameter: dict = {}
    for layer, f in feats.items():
        r2 = parameter_r2(f, params, cfg["n_folds"], cfg["seed"])
        result[layer] = group_r2(r2)
        per_parameter[layer] = {p.name: float(v) for p, v in zip(PARAMETERS, r2, strict=True)}
        log.info("probe %s: %s", layer, ", ".join(f"{g} {v:.2f}" for g, v in result[layer].items()))
    result.update({"n_faces": int(len(params)), "core_layer": last_core_layer, "n_folds": cfg["n_folds"],
                   "seed": cfg["seed"], "per_parameter": per_parameter,
                   "note": "out-of-fold R² of standardised ridge regression on unseen synthetic faces"})
    write_json(result, out)
    return result
