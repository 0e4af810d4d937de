"""Figures of the region stage (captions: workflow/report/region_*.rst)."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from facesimxai.artifacts.heatmaps import read_face_maps  # noqa: E402
from facesimxai.bootstrap import mean_ci  # noqa: E402
from facesimxai.data.faces import load_faces  # noqa: E402
from facesimxai.io import open_zarr  # noqa: E402
from facesimxai.plotting import save_figure  # noqa: E402
from facesimxai.vocabulary import display_name  # noqa: E402

log = logging.getLogger(__name__)


def plot_region_bars(face_tables: list[Path | str], stats_models: Path | str, metric: str, out: Path | str,
                     seed: int = 0) -> None:
    """Mean region score over faces per model (bars, bootstrap 95% CI), one panel per explainer.

    A star marks regions where the models differ after Holm correction.
    """
    table = pd.concat([pd.read_parquet(p) for p in face_tables], ignore_index=True)
    stats = pd.read_parquet(stats_models)
    explainers = sorted(table["explainer"].unique())
    models = sorted(table["model"].unique())
    regions = list(table["region"].cat.categories)
    fig, axes = plt.subplots(len(explainers), 1, figsize=(11, 3.2 * len(explainers)), squeeze=False)
    width = 0.8 / len(models)
    for ax, explainer in zip(axes[:, 0], explainers, strict=True):
        sub = table[table["explainer"] == explainer]
        for j, model in enumerate(models):
            stats_m = [mean_ci(sub[(sub["model"] == model) & (sub["region"] == r)][metric].to_numpy(), seed)
                       for r in regions]
            mean = np.array([s[0] for s in stats_m])
            err = np.abs(np.array([[s[0] - s[1], s[2] - s[0]] for s in stats_m]).T)
            ax.bar(np.arange(len(regions)) + (j - (len(models) - 1) / 2) * width, mean, width, yerr=err,
                   capsize=2, label=display_name(model))
        if len(stats):
            sig = stats[(stats["explainer"] == explainer) & stats["significant"]]["region"]
            top = ax.get_ylim()[1]
            for r in sig:
                ax.text(regions.index(r), top * 0.92, "*", ha="center", fontsize=14)
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xticks(np.arange(len(regions)), regions, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(metric)
        ax.set_title(f"explainer {explainer}: mean over faces, 95% bootstrap CI (* models differ, Holm)",
                     fontsize=9)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out)


def plot_mean_maps(face_stores: list[Path | str], labels: list[str], manifest: Path | str,
                   masks: Path | str, out: Path | str) -> None:
    """Mean of the per-face maps for each model × explainer over the mean face and region outlines."""
    _, images = load_faces(manifest)
    mk = open_zarr(masks)
    size = mk.sizes["y"]
    grey = np.mean([np.asarray(Image.fromarray(im).convert("L").resize((size, size)), float) for im in images], 0)
    label = mk["label"].to_numpy()
    outline = np.zeros((size, size), bool)
    for lab in label:  # pixels where any face's region label changes: the regions' spread over faces
        outline |= np.pad(np.diff(lab, axis=0) != 0, ((0, 1), (0, 0))) | np.pad(np.diff(lab, axis=1) != 0,
                                                                                  ((0, 0), (0, 1)))
    fig, axes = plt.subplots(1, len(face_stores), figsize=(3.2 * len(face_stores), 3.6), squeeze=False)
    for ax, path, lab in zip(axes[0], face_stores, labels, strict=True):
        mean = np.nan_to_num(read_face_maps(path)[2]).mean(axis=0)
        lim = np.abs(mean).max() or 1.0
        ax.imshow(grey, cmap="gray")
        ax.imshow(np.ma.masked_where(~outline, outline), cmap="Greys", alpha=0.25)
        ax.imshow(mean, cmap="bwr", vmin=-lim, vmax=lim, alpha=0.65)
        ax.set_title(lab, fontsize=9)
        ax.axis("off")
    fig.suptitle("Mean per-face maps (red = evidence for the odd one, blue = against)", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out)


def plot_ground_truth(result: dict, out: Path | str) -> None:
    """Model region importance against each reference's region weights, one panel per pair."""
    combos = [(m, e) for m, d in result["importance"].items() for e in d]
    refs = [*result["references"], "behaviour"]  # behaviour: correlational fit, labelled as such below
    fig, axes = plt.subplots(len(refs), len(combos), figsize=(3.4 * len(combos), 3.2 * len(refs)), squeeze=False)
    rec = {(r["model"], r["explainer"], r["reference"]): r for r in result["recovery"]}
    for i, ref in enumerate(refs):
        for j, (model, explainer) in enumerate(combos):
            ax = axes[i, j]
            weights = pd.Series(result["behaviour_references"][model] if ref == "behaviour"
                                else result["references"][ref])
            imp = pd.Series(result["importance"][model][explainer]).reindex(weights.index)
            ax.scatter(weights, imp, s=18)
            for region in weights.index:
                ax.annotate(region, (weights[region], imp[region]), fontsize=6, alpha=0.8)
            r = rec[(model, explainer, ref)]
            ax.set_title(f"{model}/{explainer} vs {ref}\nρ={r['spearman_rho']:.2f} (p={r['p_permutation']:.3f}), "
                         f"high>low {r['high_above_low']:.2f}, per-trial ρ {r['trial_rho']:.2f}", fontsize=7)
            ax.set_xlabel(f"{ref} region weight" + (" (correlational fit)" if ref == "behaviour" else ""), fontsize=8)
            ax.set_ylabel(f"importance ({result['metric']})", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    if result.get("warnings"):  # failed gates, stated before any region result
        fig.subplots_adjust(top=1 - 0.04 * (len(result["warnings"]) + 1))
        fig.suptitle("\n".join(result["warnings"]), fontsize=8, color="darkred")
    save_figure(fig, out)


def plot_region_stage(face_tables: list[Path | str], stats_models: Path | str, face_stores: list[Path | str],
                      labels: list[str], manifest: Path | str, masks: Path | str, metric: str,
                      bars_out: Path | str, maps_out: Path | str, seed: int = 0) -> None:
    """The region stage's report figures: region bars with CIs and the mean maps."""
    plot_region_bars(face_tables, stats_models, metric, bars_out, seed=seed)
    plot_mean_maps(face_stores, labels, manifest, masks, maps_out)
