"""Sanity checks for explainers (Adebayo et al. 2018): a faithful map must change when the model does.

Model-parameter randomisation re-initialises the head (bridge and decision), then backbone layers
cascading top-down, and compares each explainer's maps with the trained model's: Spearman ρ of
|R| per trial over all three faces' pixels, and SSIM of the |R| maps scaled to [0, 1]
(scikit-image). Quantus' ``MPRT`` measures the same thing, but it calls an explain function on
one image at a time with a classifier's logits; our explainers explain the whole triplet at
once (three faces, one contrastive decision) and region Shapley needs each face's region masks,
so the comparison is done here on the maps the validity stage already computes.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from scipy.stats import spearmanr
from skimage.metrics import structural_similarity
from torch import nn

from facesimxai.models.triplet import TripletModel

#: Top-down cascade after the head (cumulative): the fully connected layers, then conv block 5.
CASCADE = (("fc", ("fc7", "fc6")), ("conv5", ("conv_5_3", "conv_5_2", "conv_5_1")))


def _reset(module: nn.Module, generator_seed: int) -> None:
    torch.manual_seed(generator_seed)
    for m in module.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()


def randomised(model: TripletModel, layers: list[str], seed: int) -> TripletModel:
    """A copy of ``model`` with a freshly initialised head and the named core layers re-initialised (seeded)."""
    out = copy.deepcopy(model)
    torch.manual_seed(seed)  # a fresh head of the same class keeps its own init (the decision block's live biases)
    out.head = type(model.head)(model.head.in_features, model.head.width).to(next(model.parameters()).device)
    named = dict(out.core.named_children())
    for i, name in enumerate(layers):
        if name in named:
            _reset(named[name], seed + 1 + i)
    return out.eval()


def cascade_steps(model: TripletModel) -> list[tuple[str, list[str]]]:
    """[(label, core layers randomised besides the head)]: the head alone, then each cascade step."""
    present = dict(model.core.named_children())
    steps, layers, label = [("head", [])], [], "head"
    for name, group in CASCADE:
        found = [n for n in group if n in present]
        if found:
            layers, label = layers + found, f"{label}+{name}"
            steps.append((label, list(layers)))
    return steps


def map_similarity(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean over trials of Spearman ρ and SSIM between |a| and |b| (T, 3, H, W); NaN-safe."""
    rhos, ssims = [], []
    for x, y in zip(np.abs(a), np.abs(b), strict=True):
        x2, y2 = x.reshape(-1), y.reshape(-1)
        if x2.std() > 0 and y2.std() > 0:
            rhos.append(spearmanr(x2, y2).statistic)
        xs = x / x.max() if x.max() > 0 else x
        ys = y / y.max() if y.max() > 0 else y
        ssims.append(np.mean([structural_similarity(xs[p], ys[p], data_range=1.0) for p in range(len(xs))]))
    return (float(np.mean(rhos)) if rhos else float("nan")), float(np.mean(ssims))


def rank1_share(basis: torch.Tensor) -> float:
    """Share of a face's per-unit map basis (K, H, W) in its first singular vector (σ₁² / Σσ²)."""
    s = torch.linalg.svdvals(basis.reshape(basis.shape[0], -1).double())
    return float((s[0] ** 2 / (s**2).sum()).item()) if s.numel() and s.sum() > 0 else float("nan")
