"""Report figures of the landmark stage: the mesh on a few faces, the 12 regions on three.

Faces are drawn at their stored resolution; landmarks and masks live at model-input
resolution and are drawn on the same axes (masks as their own pixel grid, so what is shown is
exactly what the region statistics use).
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from facesimxai.data.faces import load_faces  # noqa: E402
from facesimxai.io import open_zarr  # noqa: E402
from facesimxai.plotting import save_figure  # noqa: E402
from facesimxai.vocabulary import REGION_COLOURS  # noqa: E402

log = logging.getLogger(__name__)

#: Iris centres of the refined mesh: 468 = the person's right eye, 473 = the person's left.
RIGHT_IRIS_CENTRE, LEFT_IRIS_CENTRE = 468, 473



def _pick(face_ids: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` faces spread over the set (deterministic)."""
    return np.unique(np.linspace(0, len(face_ids) - 1, min(k, len(face_ids))).round().astype(int))


def _mesh_figure(images: dict[int, np.ndarray], lm, n_faces: int):
    face_ids = lm["face"].to_numpy()
    idx = _pick(face_ids, n_faces)
    size = int(lm.attrs["input_size"])
    edges = lm["tesselation"].to_numpy()
    fig, axes = plt.subplots(1, len(idx), figsize=(4.2 * len(idx), 4.6), squeeze=False)
    for ax, i in zip(axes[0], idx, strict=True):
        img = images[int(face_ids[i])]
        scale = img.shape[0] / size
        pts = lm["landmarks"].isel(face=i).to_numpy()[:, :2] * scale
        ax.imshow(img)
        ax.add_collection(LineCollection(pts[edges], colors="white", linewidths=0.35, alpha=0.7))
        ax.scatter(*pts[:468].T, s=1.2, c="tab:cyan", linewidths=0)
        ax.scatter(*pts[468:].T, s=6, c="tab:red", linewidths=0)
        for centre, text in ((RIGHT_IRIS_CENTRE, "R"), (LEFT_IRIS_CENTRE, "L")):
            ax.annotate(text, pts[centre], xytext=(0, 9), textcoords="offset points", ha="center",
                        fontsize=8, color="yellow", fontweight="bold")
        ax.set_title(f"face {face_ids[i]} (detector score {float(lm['score'][i]):.2f})", fontsize=9)
        ax.set_xlim(0, img.shape[1])
        ax.set_ylim(img.shape[0], 0)
        ax.axis("off")
        ax.annotate("person's left →", (0.98, 0.02), xycoords="axes fraction", ha="right",
                    fontsize=8, color="black", backgroundcolor="white")
    fig.suptitle(f"MediaPipe face mesh: 478 points (irises red; L/R = the person's left/right "
                 f"eye), landmarks at {size} px model input, drawn on the stored face")
    return fig


def _regions_figure(images: dict[int, np.ndarray], masks, n_faces: int):
    face_ids = masks["face"].to_numpy()
    idx = _pick(face_ids, n_faces)
    names = [str(r) for r in masks["region"].to_numpy()]
    size = int(masks.attrs["input_size"])
    colours = np.array([matplotlib.colors.to_rgb(REGION_COLOURS[n]) for n in names])
    fig, axes = plt.subplots(2, len(idx), figsize=(4.2 * len(idx), 9.4), squeeze=False)
    for col, i in enumerate(idx):
        img = images[int(face_ids[i])]
        extent = (0, img.shape[1], img.shape[0], 0)
        label = masks["label"].isel(face=i).to_numpy()
        rgba = np.zeros((size, size, 4))
        rgba[label >= 0, :3] = colours[label[label >= 0]]
        rgba[label >= 0, 3] = 0.6
        ax = axes[0, col]
        ax.imshow(img)
        ax.imshow(rgba, extent=extent, interpolation="nearest")
        ax.set_title(f"face {face_ids[i]}: regions after the overlap policy", fontsize=9)
        ax = axes[1, col]
        ax.imshow(img)
        hull = masks["hull"].isel(face=i).to_numpy()
        for r in range(len(names)):
            ax.contour(np.arange(size) * img.shape[1] / size + img.shape[1] / size / 2,
                       np.arange(size) * img.shape[0] / size + img.shape[0] / size / 2,
                       hull[r].astype(float), [0.5], colors=[colours[r]], linewidths=1.4)
        ax.set_title(f"face {face_ids[i]}: raw convex hulls (may overlap)", fontsize=9)
        for ax in axes[:, col]:
            ax.axis("off")
            ax.annotate("person's left →", (0.98, 0.02), xycoords="axes fraction", ha="right",
                        fontsize=8, color="black", backgroundcolor="white")
    area = masks["area"].mean("face").to_numpy()
    handles = [Patch(color=colours[r], label=f"{n.replace('_', ' ')} ({area[r]:.0f} px)")
               for r, n in enumerate(names)]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=9, frameon=False,
               title=f"region (mean area at {size} px model input); left/right = the person's own")
    fig.suptitle(f"The 12 facial regions (priority: {', '.join(masks.attrs['priority'])})",
                 fontsize=10)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.1, hspace=0.1, wspace=0.04)
    return fig


def plot_region_figures(manifest: Path | str, landmarks_store: Path | str, masks_store: Path | str,
                        landmarks_png: Path | str, regions_png: Path | str, n_mesh_faces: int = 4,
                        n_region_faces: int = 3) -> None:
    """Rule ``region_figures``: mesh overlay on a few faces, the 12 regions on three faces."""
    table, images = load_faces(manifest)
    by_id = dict(zip(table["face_id"].to_numpy().tolist(), images, strict=True))
    save_figure(_mesh_figure(by_id, open_zarr(landmarks_store), n_mesh_faces), landmarks_png)
    save_figure(_regions_figure(by_id, open_zarr(masks_store), n_region_faces), regions_png)
