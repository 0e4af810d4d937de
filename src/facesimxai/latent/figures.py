"""Figures of the latent stage (captions: workflow/report/latent_*.rst)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from facesimxai.io import open_zarr  # noqa: E402
from facesimxai.plotting import save_figure  # noqa: E402

log = logging.getLogger(__name__)


def _signed(ax, img: np.ndarray, title: str) -> None:
    lim = float(np.nanmax(np.abs(img))) or 1.0
    ax.imshow(img, cmap="bwr", vmin=-lim, vmax=lim)
    ax.set_title(title, fontsize=7)
    ax.axis("off")


def plot_pca(pca: Path | str, ae_metrics: Path | str, title: str, out: Path | str, n_show: int = 8) -> None:
    ds = open_zarr(pca)
    evr = ds["explained_variance_ratio"].to_numpy()
    n = min(n_show, len(evr))
    fig = plt.figure(figsize=(2 * (n + 2), 2.6))
    ax = fig.add_subplot(1, n + 2, (1, 2))
    ax.plot(np.arange(1, len(evr) + 1), np.cumsum(evr), marker=".")
    ax.set_xlabel("components", fontsize=8)
    ax.set_ylabel("cumulative explained variance", fontsize=8)
    ae = json.loads(Path(ae_metrics).read_text())
    ax.set_title(f"AE holdout MSE {ae['holdout_mse']:.3g}\nmean-map baseline {ae['baseline_mse']:.3g}", fontsize=7)
    ax.tick_params(labelsize=7)
    for i in range(n):
        _signed(fig.add_subplot(1, n + 2, i + 3), ds["components"][i].to_numpy(), f"PC{i + 1} ({100 * evr[i]:.1f}%)")
    fig.suptitle(title, fontsize=9)
    save_figure(fig, out, dpi=100)


def plot_embedding(table: Path | str, title: str, out: Path | str) -> None:
    """Rows: source × method; columns: coloured by k-means cluster, odd face, split, model agrees."""
    t = pd.read_parquet(table)
    colourings = [("kmeans", "tab10"), ("odd_face", "tab20"), ("split", None), ("model_agrees", None)]
    combos = [(s, m) for s in t["source"].unique() for m in ("umap", "tsne") if f"{m}_x" in t]
    fig, axes = plt.subplots(len(combos), len(colourings), figsize=(3 * len(colourings), 2.8 * len(combos)),
                             squeeze=False)
    for r, (source, method) in enumerate(combos):
        sub = t[t["source"] == source]
        for c, (col, cmap) in enumerate(colourings):
            ax = axes[r, c]
            values = sub[col]
            if cmap is None:
                for v in sorted(values.astype(str).unique()):
                    sel = values.astype(str) == v
                    ax.scatter(sub.loc[sel, f"{method}_x"], sub.loc[sel, f"{method}_y"], s=4, label=v)
                ax.legend(fontsize=6, markerscale=2)
            else:
                ax.scatter(sub[f"{method}_x"], sub[f"{method}_y"], c=values, cmap=cmap, s=4)
            ax.set_title(f"{source} · {method} · {col}", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, out, dpi=100)


def plot_cluster_means(means: Path | str, clusters: Path | str, title: str, out: Path | str) -> None:
    ds = open_zarr(means)
    summary = json.loads(Path(clusters).read_text())
    sources = [str(s) for s in ds["source"].values]
    k = ds.sizes["cluster"]
    fig, axes = plt.subplots(len(sources), k, figsize=(1.8 * k, 2.0 * len(sources)), squeeze=False)
    for i, s in enumerate(sources):
        for j in range(k):
            img = ds["mean_map"][i, j].to_numpy()
            if np.isnan(img).all():
                axes[i, j].axis("off")
                continue
            _signed(axes[i, j], img, f"{s} cluster {j}")
        axes[i, 0].set_ylabel(f"{s}: k={summary[s]['best_k']}", fontsize=8)
    fig.suptitle(title + " — k-means cluster means (k by silhouette)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, out, dpi=100)


def plot_latent_figures(pca: Path | str, ae_metrics: Path | str, table: Path | str, means: Path | str,
                        clusters: Path | str, title: str, pca_out: Path | str, embedding_out: Path | str,
                        clusters_out: Path | str) -> None:
    """The latent stage's report figures for one model × explainer."""
    plot_pca(pca, ae_metrics, title, pca_out)
    plot_embedding(table, title, embedding_out)
    plot_cluster_means(means, clusters, title, clusters_out)
