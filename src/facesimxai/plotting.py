"""Shared drawing: report figures written atomically (no half-written PNG under the final name),
and the signed-relevance overlay colouring every stage that draws a heatmap uses."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from PIL import Image  # noqa: E402

from facesimxai.io import atomic_path  # noqa: E402

log = logging.getLogger(__name__)


def save_figure(fig, out: Path | str, dpi: int = 110) -> None:
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    log.info("wrote figure %s", out)


# Heatmap overlays: signed relevance as a transparent RGBA PNG (the explorer's viewer and the VLM's
# heatmap images). Diverging colour map centred at zero with symmetric limits ±max|R| of the map
# (red: evidence for the model's output, blue: against); opacity grows with |R| so irrelevant
# pixels leave the face visible underneath.

CMAP = "RdBu_r"


def overlay_rgba(relevance: np.ndarray) -> tuple[np.ndarray, float]:
    """(H, W, 4) uint8 overlay of one map, and the limit it was scaled with (0 for an empty map)."""
    rel = np.asarray(relevance, dtype=np.float64)
    if rel.ndim != 2:
        raise ValueError(f"an overlay needs one 2-D map, got shape {rel.shape}")
    limit = float(np.abs(rel).max()) if rel.size else 0.0
    scaled = rel / limit if limit > 0 else np.zeros_like(rel)
    rgba = colormaps[CMAP](0.5 + 0.5 * scaled)
    rgba[..., 3] = np.sqrt(np.abs(scaled))  # sqrt: weak but real relevance stays visible
    return np.round(rgba * 255).astype(np.uint8), limit


def write_overlay(relevance: np.ndarray, out: Path | str) -> float:
    """Write the overlay PNG atomically; returns its colour limit (max |R|)."""
    rgba, limit = overlay_rgba(relevance)
    with atomic_path(out) as tmp:
        Image.fromarray(rgba, mode="RGBA").save(tmp, format="png")
    return limit
