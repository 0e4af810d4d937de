"""Explainers of the whole triplet decision that need no LRP rules: region Shapley and integrated
gradients, behind one call shared by the heatmap store (``explain.part``), the faithfulness
stage and the validity check, so every stage computes them the same way."""

from __future__ import annotations

import numpy as np
import torch

from facesimxai.explain.engines import INTEGRATED_GRADIENTS, REGION_SHAPLEY, ExplainSettings
from facesimxai.explain.integrated import IGSettings, triplet_integrated_gradients
from facesimxai.explain.region_shapley import ShapleySettings, pixel_form, region_shapley
from facesimxai.explain.triplet_function import TripletFunction

DECISION_METHODS = (REGION_SHAPLEY, INTEGRATED_GRADIENTS)


def decision_maps(settings: ExplainSettings, fn: TripletFunction, faces: torch.Tensor, references: torch.Tensor,
                  heads: np.ndarray, target_pos: np.ndarray | None = None, players: np.ndarray | None = None,
                  seed: int = 0, progress=lambda x: x) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(maps, logits (T, 3), target (T,), extra variables) for ``settings.method``; maps are
    (T, 3, H, W), or (T, H, W) of the target face for ``positions: target``.

    ``extra``: region Shapley's ``region_value`` and ``region_se`` (trial, player); integrated
    gradients' ``completeness_error`` (trial)."""
    heads = np.asarray(heads)
    if settings.method == REGION_SHAPLEY:
        if players is None:
            raise ValueError("region_shapley needs region masks (players)")
        shapley = ShapleySettings(settings.n_permutations, seed=seed, feather=settings.feather)
        rs = region_shapley(fn, faces, references, players, heads, shapley, target_pos, progress)
        maps, logits, target = pixel_form(rs.phi, players, heads), rs.logits, rs.target
        extra = {"region_value": (("trial", "player"), rs.phi.astype(np.float32)),
                 "region_se": (("trial", "player"), rs.se.astype(np.float32))}
    elif settings.method == INTEGRATED_GRADIENTS:
        out = triplet_integrated_gradients(fn, faces, references, heads,
                                           IGSettings(n_steps=settings.n_steps, baseline=settings.baseline),
                                           target_pos, progress)
        maps, logits, target = out["maps"].numpy(), out["logits"].numpy(), out["target"].numpy()
        extra = {"completeness_error": (("trial",), out["completeness_error"].numpy().astype(np.float32))}
    else:
        raise ValueError(f"{settings.method} is not a decision method ({', '.join(DECISION_METHODS)})")
    if settings.positions == "target":
        maps = maps[np.arange(len(maps)), target]
    return maps, np.asarray(logits, np.float32), np.asarray(target, np.int64), extra
