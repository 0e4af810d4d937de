"""Figures of the data stage for the Snakemake report (captions in workflow/report/)."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from facesimxai.data.face_params import PARAMETER_NAMES, PARAMETERS  # noqa: E402
from facesimxai.data.faces import load_faces  # noqa: E402
from facesimxai.data.observers import fit_choice_model, parameter_weights  # noqa: E402
from facesimxai.data.render import render_face  # noqa: E402
from facesimxai.io import open_zarr  # noqa: E402
from facesimxai.plotting import save_figure  # noqa: E402

log = logging.getLogger(__name__)


def _montage(images: np.ndarray, labels: list[str], cols: int, title: str):
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.75 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, img, label in zip(axes.flat, images, labels, strict=False):
        ax.imshow(img)
        ax.set_title(label, fontsize=8)
    fig.suptitle(title)
    return fig


def plot_face_figures(manifest, faces_png, effects_png=None, pretrain_png=None,
                      pretrain_store=None, image_size: int = 224, max_faces: int = 48) -> None:
    """Montage of the analysis faces; for synthetic data also parameter effects and pretrain renders."""
    table, images = load_faces(manifest)
    n = min(len(images), max_faces)
    save_figure(_montage(images[:n], [f"face {i}" for i in table["face_id"][:n]], 8,
                   f"Analysis faces ({len(images)} in all, {table['source'].iloc[0]})"), faces_png)
    if effects_png:
        save_figure(_parameter_effects(image_size), effects_png)
    if pretrain_png and pretrain_store:
        ds = open_zarr(pretrain_store)
        k = min(ds.sizes["render"], 24)
        idx = np.linspace(0, ds.sizes["render"] - 1, k).astype(int)
        imgs = ds["image"].isel(render=idx).to_numpy()
        labels = [f"identity {i}" for i in ds["identity"].isel(render=idx).to_numpy()]
        save_figure(_montage(imgs, labels, 8, "Augmented pretraining renders (pose, light, expression)"),
              pretrain_png)


def _parameter_effects(size: int):
    """Where each parameter changes the image: |render(+1) − render(−1)| on the average face."""
    base = render_face(np.zeros(len(PARAMETERS)), size=size).astype(float)
    cols = 6
    rows = int(np.ceil(len(PARAMETERS) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.1 * cols, 2.35 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for j, (ax, p) in enumerate(zip(axes.flat, PARAMETERS, strict=False)):
        lo, hi = np.zeros(len(PARAMETERS)), np.zeros(len(PARAMETERS))
        lo[j], hi[j] = -1, 1
        diff = np.abs(render_face(hi, size=size).astype(float)
                      - render_face(lo, size=size).astype(float)).max(axis=2)
        ax.imshow(base.mean(axis=2), cmap="gray", vmin=0, vmax=255)
        ax.imshow(np.ma.masked_less(diff, 4), cmap="magma", alpha=0.85, vmin=0, vmax=255)
        regions = textwrap.fill(", ".join(r.replace("_", " ") for r in p.regions), 26)
        ax.set_title(f"{p.name} [{p.group}]\n{regions}", fontsize=7)
    fig.suptitle("What each face parameter changes (colour = |difference| between −1 and +1)")
    return fig


def plot_judgment_figures(trials, summary, manifest, judgments_png, truth=None,
                          recovery_png=None) -> None:
    """Cleaning, coverage and position bias of the judgments; recovery of simulated weights."""
    trials = pd.read_parquet(trials)
    summary = pd.read_csv(summary)
    faces = pd.read_parquet(manifest)
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    ax = axes[0]
    ax.barh(summary["rule"][::-1], summary["rows_dropped"][::-1], color="tab:red")
    ax.set_xlabel("rows dropped")
    ax.set_title(f"Cleaning: {summary['rows_before'].iloc[0]} → {summary['rows_after'].iloc[-1]} rows")
    ax.tick_params(axis="y", labelsize=7)
    ax = axes[1]
    shown = np.bincount(trials[["head1", "head2", "head3"]].to_numpy().ravel(),
                        minlength=faces["face_id"].max() + 1)[faces["face_id"]]
    chosen = np.bincount(trials["odd_face"], minlength=faces["face_id"].max() + 1)[faces["face_id"]]
    ax.bar(faces["face_id"], shown, color="lightgray", label="shown")
    ax.bar(faces["face_id"], chosen, color="tab:blue", label="chosen as odd")
    ax.set_xlabel("face id")
    ax.set_title("Trials per face")
    ax.legend(fontsize=8)
    ax = axes[2]
    pos = trials["odd_pos"].value_counts(normalize=True).reindex([0, 1, 2], fill_value=0)
    ax.bar(["left", "middle", "right"], pos.to_numpy(), color="tab:green")
    ax.axhline(1 / 3, color="k", ls="--", lw=1, label="no bias")
    ax.set_title("Position of the chosen face")
    ax.legend(fontsize=8)
    ax = axes[3]
    counts = trials["split"].value_counts()
    ax.bar(counts.index, counts.to_numpy(), color="tab:purple")
    ax.set_title("Trials per split")
    fig.tight_layout()
    save_figure(fig, judgments_png)
    if truth and recovery_png:
        save_figure(_observer_recovery(trials, faces, json.loads(Path(truth).read_text())), recovery_png)


def _observer_recovery(trials: pd.DataFrame, faces: pd.DataFrame, truth: dict):
    from scipy.stats import spearmanr

    params = faces.sort_values("face_id")[[f"p_{n}" for n in PARAMETER_NAMES]].to_numpy()
    coef = fit_choice_model(params, trials)
    true = parameter_weights(truth["group_weights"])
    rho = spearmanr(true, coef.to_numpy()).statistic
    fig, ax = plt.subplots(figsize=(10, 3.8))
    x = np.arange(len(PARAMETER_NAMES))
    ax.bar(x - 0.2, true / true.sum(), 0.4, label="observer weight (truth)", color="tab:gray")
    ax.bar(x + 0.2, coef / coef.clip(lower=0).sum(), 0.4, label="recovered from choices",
           color="tab:orange")
    ax.set_xticks(x, PARAMETER_NAMES, rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("share of total weight")
    ax.set_title(f"Simulated observers: weights recovered by a conditional logit "
                 f"(Spearman ρ = {rho:.2f}; agreement with mean observer "
                 f"{truth['agreement_with_mean_observer']:.2f})", fontsize=10)
    ax.legend()
    fig.tight_layout()
    return fig
