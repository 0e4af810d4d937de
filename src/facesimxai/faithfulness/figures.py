"""Faithfulness figures: mean perturbation curves per explainer, the metrics with bootstrap CIs,
region agreement with removal, and the cross-model masking matrix."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from facesimxai.plotting import save_figure
from facesimxai.vocabulary import display_name

CURVES = {"deletion": "deletion (lower = faithful)", "insertion": "insertion (higher = faithful)",
          "morf": "MoRF cells (steeper = faithful)", "lerf": "LeRF cells (flatter = faithful)"}
METRIC_LABELS = {"deletion_auc": "deletion AUC ↓", "insertion_auc": "insertion AUC ↑", "abpc": "ABPC ↑"}


def _label(name: str) -> str:
    if name.startswith("hum_seed"):
        return f"VGG-Hum seed {name.removeprefix('hum_seed')}"
    return display_name(name)


def faithfulness_figure(curves: list[str], table: Path | str, agreement: Path | str, out: Path | str) -> None:
    cv = pd.concat([pd.read_parquet(p) for p in curves], ignore_index=True)
    intact = cv[(cv["curve"] == "deletion") & (cv["step"] == 0)].set_index(["model", "explainer", "trial_id"])["score"]
    cv = cv.join(intact.rename("intact"), on=["model", "explainer", "trial_id"])
    tb, ag = pd.read_parquet(table), pd.read_parquet(agreement)
    models = list(dict.fromkeys(cv["model"]))
    explainers = list(dict.fromkeys(cv["explainer"]))
    colours = dict(zip(explainers, plt.cm.tab10.colors, strict=False))
    fig, axes = plt.subplots(len(models), len(CURVES) + 2, figsize=(4 * (len(CURVES) + 2), 3.4 * len(models)),
                             squeeze=False)
    for r, model in enumerate(models):
        for c, (kind, title) in enumerate(CURVES.items()):
            ax = axes[r, c]
            sub = cv[(cv["model"] == model) & (cv["curve"] == kind)]
            for name, g in sub.groupby("explainer", sort=False):
                # relative to the intact face, so the bands show the spread of the change, not of the
                # trials' score levels
                g = g.assign(change=g["score"] - g["intact"])
                stats = g.groupby("fraction")["change"].agg(["mean", "sem"])
                ax.plot(stats.index, stats["mean"], label=name, color=colours[name],
                        ls=":" if name == "random" else "-")
                ax.fill_between(stats.index, stats["mean"] - 1.96 * stats["sem"], stats["mean"] + 1.96 * stats["sem"],
                                color=colours[name], alpha=0.15)
            ax.set_title(f"{_label(model)}: {title}", fontsize=9)
            ax.axhline(0, c="k", lw=0.6)
            ax.set_xlabel("fraction perturbed")
            ax.set_ylabel("score − score of the intact face")
        ax = axes[r, len(CURVES)]
        sub = tb[(tb["model"] == model) & tb["metric"].isin(list(METRIC_LABELS))]
        width = 0.8 / max(1, len(explainers))
        for i, name in enumerate(explainers):
            g = sub[sub["explainer"] == name].set_index("metric").reindex(list(METRIC_LABELS))
            x = np.arange(len(METRIC_LABELS)) + i * width
            ax.bar(x, g["mean"], width, color=colours[name], label=name,
                   yerr=[g["mean"] - g["ci_low"], g["ci_high"] - g["mean"]], capsize=2)
        ax.set_xticks(np.arange(len(METRIC_LABELS)) + 0.4 - width / 2, list(METRIC_LABELS.values()), fontsize=8)
        ax.set_title(f"{_label(model)}: metrics (95% bootstrap CI)", fontsize=9)
        ax = axes[r, len(CURVES) + 1]
        sub = ag[(ag["model"] == model) & (ag["technique"] == "average")]
        ax.barh(sub["explainer"], sub["rho"], xerr=[sub["rho"] - sub["ci_low"], sub["ci_high"] - sub["rho"]],
                color=[colours.get(e, "grey") for e in sub["explainer"]], capsize=2)
        ax.axvline(0, c="k", lw=0.8)
        ax.set_xlim(-1, 1)
        ax.set_xlabel("Spearman ρ with region removal (average)")
        ax.set_title(f"{_label(model)}: region ranks vs removal", fontsize=9)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out)


def masking_figure(table: Path | str, fraction: float, out: Path | str) -> None:
    tb = pd.read_parquet(table)
    fractions = sorted(tb["fraction"].unique())
    frac = min(fractions, key=lambda f: abs(f - fraction))
    sub = tb[tb["fraction"] == frac]
    sources = list(dict.fromkeys(sub["source"]))
    models = list(dict.fromkeys(sub["evaluated"]))
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    for ax, value, title in ((axes[0], "flip_rate", "decisions changed"),
                             (axes[1], "accuracy_drop", "accuracy drop vs human choice")):
        m = sub.pivot(index="source", columns="evaluated", values=value).reindex(index=sources, columns=models)
        lim = max(1e-6, float(np.nanmax(np.abs(m.to_numpy()))))
        im = ax.imshow(m.to_numpy(), cmap="RdBu_r" if value == "accuracy_drop" else "viridis",
                       vmin=-lim if value == "accuracy_drop" else 0, vmax=lim)
        for (i, j), v in np.ndenumerate(m.to_numpy()):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8, color="w" if abs(v) > lim / 2 else "k")
        ax.set_xticks(range(len(models)), [_label(x) for x in models], rotation=25, fontsize=8)
        ax.set_yticks(range(len(sources)), [_label(x) for x in sources], fontsize=8)
        ax.set_xlabel("model evaluated (B)")
        ax.set_ylabel("relevance used for masking (A)")
        ax.set_title(f"{title}, top {frac:.0%} pixels masked", fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.8)
    ax = axes[2]
    for src, g in tb[tb["evaluated"] == tb["source"]].groupby("source", sort=False):
        ax.plot(g["fraction"], g["flip_rate"], marker="o", label=f"{_label(src)} masks itself")
    for ev, g in tb[tb["source"] == "random"].groupby("evaluated", sort=False):
        ax.plot(g["fraction"], g["flip_rate"], ls=":", marker=".", label=f"random masks, {_label(ev)}")
    ax.set_xlabel("fraction of pixels masked per face")
    ax.set_ylabel("decisions changed")
    ax.set_title("own relevance vs random masks", fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out)
