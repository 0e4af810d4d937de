"""Seed 002's face-verification heatmaps from two attention maps (Correia, Pereira & Correia).

A verification pair (probe P, gallery G) has one attention map per image. Each map is
thresholded with Otsu's method; the two binary maps are combined into one mask of the regions
that matter: **OIM** (only intersection), **UM** (union) and, for negative decisions,
**N-IUM** (union minus intersection, what only one image finds important). The mask is removed
from the images and the embeddings' squared distances say how much the removed regions carried,
per unit of removed area ``RA`` (the share of the image the mask covers):

- positive (same identity): SM⁺ = ((d_PG − d)/d)/(2·RA) + ((d_PP − d)/d)/(2·RA), with
  d_PG = ‖e_G − e_MP‖² (masked probe against the gallery) and d_PP = ‖e_P − e_MG‖²;
- negative: SM⁻ = ((d − d_NGP)/d)/RA with d_NGP = ‖e_MG − e_MP‖² (both masked).

The technique with the larger SM is selected per pair; its heatmap takes the original attention
values over the selected mask (the mean of the two maps where both cover a pixel, the one map where
only one does), dilated and smoothed as the paper does (8 × 8 dilation, Gaussian of size 56 and
variance 6.6, both given at 224 px and scaled to the image). ``RA`` is a fraction here (the paper
calls it a percentage; its Table 1 values are of the size a fraction gives).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.ndimage import gaussian_filter, grey_dilation
from skimage.filters import threshold_otsu

POSITIVE_TECHNIQUES = ("OIM", "UM")
NEGATIVE_TECHNIQUES = ("OIM", "UM", "N-IUM")
#: The paper's filter at 224 px: an 8 × 8 dilation, then a Gaussian of variance 6.6 on a 56 × 56 kernel.
PAPER_SIDE, DILATION, GAUSS_SIZE, GAUSS_VARIANCE = 224, 8, 56, 6.6


def otsu_mask(attention: np.ndarray) -> np.ndarray:
    """Pixels above the map's Otsu threshold (all False for a constant map: nothing stands out)."""
    a = np.asarray(attention, np.float64)
    if np.ptp(a) == 0:
        return np.zeros(a.shape, bool)
    return a > threshold_otsu(a)


def combine(probe: np.ndarray, gallery: np.ndarray, technique: str) -> np.ndarray:
    """The removal mask of ``technique`` from two thresholded maps."""
    if technique == "OIM":
        return probe & gallery
    if technique == "UM":
        return probe | gallery
    if technique == "N-IUM":
        return probe ^ gallery
    raise ValueError(f"unknown masking technique {technique!r} (OIM, UM, N-IUM)")


def removed_area(mask: np.ndarray) -> float:
    """RA: the share of the image the mask removes."""
    return float(np.asarray(mask, bool).mean())


def selection_metric(d: float, d_pg: float, d_pp: float, d_ngp: float, ra: float, positive: bool) -> float:
    """SM⁺ (positive decisions) or SM⁻ (negative); NaN where the mask removes nothing or d is 0."""
    if ra <= 0 or d <= 0:
        return float("nan")
    if positive:
        return ((d_pg - d) / d) / (2 * ra) + ((d_pp - d) / d) / (2 * ra)
    return ((d - d_ngp) / d) / ra


def attention_heatmap(probe_attention: np.ndarray, gallery_attention: np.ndarray, probe_mask: np.ndarray,
                      gallery_mask: np.ndarray, mask: np.ndarray, smooth: bool = True) -> np.ndarray:
    """The explanation over ``mask``: both maps' mean where both thresholded maps cover a pixel, the
    covering map's value where one does, 0 elsewhere; then the paper's dilation and Gaussian."""
    p, g = np.asarray(probe_attention, np.float64), np.asarray(gallery_attention, np.float64)
    both = probe_mask & gallery_mask
    value = np.where(both, (p + g) / 2, np.where(probe_mask, p, np.where(gallery_mask, g, 0.0)))
    heat = np.where(mask, value, 0.0)
    if not smooth:
        return heat
    scale = heat.shape[-1] / PAPER_SIDE
    size = max(1, round(DILATION * scale))
    heat = grey_dilation(heat, size=(size, size))
    sigma = np.sqrt(GAUSS_VARIANCE) * scale
    truncate = (GAUSS_SIZE * scale / 2) / sigma if sigma > 0 else 4.0
    return gaussian_filter(heat, sigma, truncate=truncate) if sigma > 0 else heat


def _sq(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).sum())


def explain_pair(embed: Callable[[torch.Tensor], torch.Tensor], probe: torch.Tensor, gallery: torch.Tensor,
                 probe_attention: np.ndarray, gallery_attention: np.ndarray, positive: bool,
                 fill: torch.Tensor | float = 0.0) -> dict:
    """Seed 002 on one pair: every technique's mask, RA and SM, the selected technique and its heatmap.

    ``embed`` maps images (N, C, H, W) to embeddings (N, K); ``probe``/``gallery`` (C, H, W);
    attention maps (H, W) at image size; removed pixels are set to ``fill``."""
    tp, tg = otsu_mask(probe_attention), otsu_mask(gallery_attention)
    techniques = POSITIVE_TECHNIQUES if positive else NEGATIVE_TECHNIQUES
    masks = {t: combine(tp, tg, t) for t in techniques}
    images = [probe, gallery]
    for t in techniques:
        m = torch.as_tensor(masks[t])
        images += [torch.where(m, torch.as_tensor(fill, dtype=probe.dtype), probe),
                   torch.where(m, torch.as_tensor(fill, dtype=gallery.dtype), gallery)]
    with torch.no_grad():
        e = embed(torch.stack(images)).double()
    e_p, e_g = e[0], e[1]
    d = _sq(e_p, e_g)
    rows = {}
    for i, t in enumerate(techniques):
        e_mp, e_mg = e[2 + 2 * i], e[3 + 2 * i]
        ra = removed_area(masks[t])
        rows[t] = {"RA": ra, "d": d, "d_PG": _sq(e_g, e_mp), "d_PP": _sq(e_p, e_mg), "d_NGP": _sq(e_mg, e_mp)}
        rows[t]["SM"] = selection_metric(d, rows[t]["d_PG"], rows[t]["d_PP"], rows[t]["d_NGP"], ra, positive)
    scored = {t: r["SM"] for t, r in rows.items() if np.isfinite(r["SM"])}
    selected = max(scored, key=scored.get) if scored else None
    heat = (attention_heatmap(probe_attention, gallery_attention, tp, tg, masks[selected]) if selected
            else np.zeros(np.shape(probe_attention)))
    return {"techniques": rows, "selected": selected, "masks": masks, "heatmap": heat}


def sm_table(results: list[dict], positive: list[bool]) -> dict[str, dict[str, float]]:
    """The paper's Table 1: mean SM per decision type × technique over pairs (NaN SMs left out)."""
    out: dict[str, dict[str, float]] = {}
    for kind, techniques in (("positive", POSITIVE_TECHNIQUES), ("negative", NEGATIVE_TECHNIQUES)):
        chosen = [r for r, pos in zip(results, positive, strict=True) if pos == (kind == "positive")]
        out[kind] = {}
        for t in techniques:
            sm = np.array([r["techniques"][t]["SM"] for r in chosen], np.float64)
            out[kind][t] = float(sm[np.isfinite(sm)].mean()) if np.isfinite(sm).any() else float("nan")
    return out
