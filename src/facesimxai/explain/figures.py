"""Per-face average heatmaps for the report (caption: workflow/report/heatmaps.rst)."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from facesimxai.artifacts.heatmaps import read_face_maps  # noqa: E402
from facesimxai.data.faces import load_faces  # noqa: E402
from facesimxai.plotting import save_figure  # noqa: E402

log = logging.getLogger(__name__)


def plot_face_maps(face_store: Path | str, manifest: Path | str, title: str, out: Path | str,
                   max_faces: int = 24) -> None:
    """Grid of per-face mean maps over the grey face, diverging colours centred at zero."""
    face_ids, n_trials, rel = read_face_maps(face_store, include_empty=True)
    _, images = load_faces(manifest)
    n = min(len(rel), max_faces)
    cols = 8
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.7 * cols, 1.9 * rows), squeeze=False)
    size = rel.shape[-1]
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:n]):
        grey = np.asarray(Image.fromarray(images[i]).convert("L").resize((size, size)))
        ax.imshow(grey, cmap="gray")
        r = np.nan_to_num(rel[i])
        lim = np.abs(r).max() or 1.0
        ax.imshow(r, cmap="bwr", vmin=-lim, vmax=lim, alpha=0.65)
        ax.set_title(f"face {int(face_ids[i])} (n={int(n_trials[i])})", fontsize=7)
    fig.suptitle(title + "\nred = evidence for the face being the odd one, blue = against", fontsize=10)
    save_figure(fig, out)
