"""Perturbation curves on the target face: how fast does the decision fall when the pixels a map
calls relevant are removed first?

- deletion / insertion (Petsiuk et al. 2018): replace the top-k% pixels by the map with a
  baseline image (deletion; low area = faithful), or start from the baseline and restore them
  (insertion; high area = faithful);
- region perturbation (Samek et al. 2017): remove square cells of a grid ordered by their summed
  relevance, most relevant first (MoRF) and least relevant first (LeRF); AOPC is the mean drop
  of the score from the unperturbed input, and ABPC = AOPC(MoRF) − AOPC(LeRF) rewards maps whose
  order matters in both directions.

Only the target face is perturbed; the other two faces' embeddings are computed once (frozen
core), so each curve point costs one face embedding.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.integrate import trapezoid

from facesimxai.explain.triplet_function import TripletFunction

SCORES = ("probability", "logit")


def decision_score(logits: torch.Tensor, target: torch.Tensor, kind: str) -> torch.Tensor:
    """The quantity the curves follow: the target's softmax probability, or its logit."""
    if kind == "probability":
        logits = torch.softmax(logits, dim=-1)
    elif kind != "logit":
        raise ValueError(f"unknown score {kind!r} (config key faithfulness.score); scores: {', '.join(SCORES)}")
    return logits.gather(-1, target.unsqueeze(-1)).squeeze(-1)


def target_scores(fn: TripletFunction, trip_emb: torch.Tensor, target: torch.Tensor, variants: torch.Tensor,
                  kind: str) -> torch.Tensor:
    """Scores (V,) of one triplet when its target face is replaced by each of ``variants`` (V, C, H, W)."""
    occ = fn.embed(variants)
    combo = trip_emb.unsqueeze(0).repeat(len(occ), 1, 1)
    combo[:, int(target)] = occ.to(combo)
    return decision_score(fn.logits(combo).cpu(), target.repeat(len(occ)), kind)


def fraction_counts(n: int, steps: int) -> np.ndarray:
    """How many of ``n`` units are perturbed at each of the steps + 1 curve points (0 … n)."""
    return np.round(np.linspace(0, n, steps + 1)).astype(int)


def pixel_curves(fn: TripletFunction, face: torch.Tensor, baseline: torch.Tensor, rel: np.ndarray,
                 trip_emb: torch.Tensor, target: torch.Tensor, steps: int, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Deletion and insertion curves (steps + 1 points each) of one trial."""
    deleted, inserted = pixel_variants(face, baseline, np.argsort(-rel.ravel(), kind="stable"), steps)
    scores = target_scores(fn, trip_emb, target, torch.cat([deleted, inserted]), kind).numpy()
    return scores[: len(deleted)], scores[len(deleted):]


def pixel_variants(face: torch.Tensor, baseline: torch.Tensor, order: np.ndarray,
                   steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(deleted, inserted), each (steps + 1, C, H, W): the first pixels of ``order`` (flat indices)
    replaced by the baseline, or the baseline with them restored, at equal fractions 0 … 1."""
    c = face.shape[0]
    flat_x, flat_b = face.reshape(c, -1), baseline.reshape(c, -1)
    deleted, inserted = [], []
    for n in fraction_counts(order.size, steps):
        top = torch.from_numpy(order[:n])
        d, i = flat_x.clone(), flat_b.clone()
        d[:, top], i[:, top] = flat_b[:, top], flat_x[:, top]
        deleted.append(d.reshape(face.shape))
        inserted.append(i.reshape(face.shape))
    return torch.stack(deleted), torch.stack(inserted)


def cell_sums(rel: np.ndarray, grid: int) -> tuple[np.ndarray, list[tuple[slice, slice]]]:
    """Summed relevance of each cell of a grid × grid partition, and the cells' slices."""
    edges = np.round(np.linspace(0, rel.shape[-1], grid + 1)).astype(int)
    cells = [(slice(edges[i], edges[i + 1]), slice(edges[j], edges[j + 1])) for i in range(grid) for j in range(grid)]
    return np.array([rel[sl].sum() for sl in cells]), cells


def region_curves(fn: TripletFunction, face: torch.Tensor, baseline: torch.Tensor, rel: np.ndarray,
                  trip_emb: torch.Tensor, target: torch.Tensor, grid: int, steps: int,
                  kind: str) -> tuple[np.ndarray, np.ndarray]:
    """MoRF and LeRF curves (steps + 1 points each) over grid cells of one trial."""
    sums, cells = cell_sums(rel, grid)
    counts = fraction_counts(len(cells), steps)
    variants = []
    for order in (np.argsort(-sums, kind="stable"), np.argsort(sums, kind="stable")):
        for n in counts:
            x = face.clone()
            for k in order[:n]:
                x[(slice(None), *cells[k])] = baseline[(slice(None), *cells[k])]
            variants.append(x)
    scores = target_scores(fn, trip_emb, target, torch.stack(variants), kind).numpy()
    return scores[: len(counts)], scores[len(counts):]


def area(curve: np.ndarray) -> float:
    """Area under a curve sampled at equal fractions of 0 … 1 (trapezoid rule)."""
    return float(trapezoid(curve, dx=1 / (len(curve) - 1)))


def aopc(curve: np.ndarray) -> float:
    """Average drop of the score from the unperturbed input over the curve's points."""
    return float(np.mean(curve[0] - curve))
