"""The VLM evaluation figure: accuracy with chance, κ between raters, region agreement against
its baselines, and order consistency with the presentation-slot counts."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from facesimxai.plotting import save_figure
from facesimxai.vocabulary import display_name


def _accuracy(ax, s: dict) -> None:
    acc = s["accuracy_vs_human"]
    names = list(acc)
    vals = [acc[n]["accuracy"] for n in names]
    err = np.array([[v - acc[n]["ci95"][0], acc[n]["ci95"][1] - v] for n, v in zip(names, vals, strict=True)]).T
    colours = ["#7b3294", "#008837", "#a6611a"][: len(names)]
    ax.bar([display_name(n) for n in names], vals, yerr=err, capsize=4, color=colours)
    ax.axhline(s["chance_accuracy"], ls="--", c="k", lw=1, label="chance 1/3")
    ax.set_ylim(0, 1)
    ax.set_ylabel("agreement with the human choice")
    ax.set_title(f"Accuracy on {acc[names[0]]['n']} held-out trials (95% CI)")
    ax.legend(loc="upper right", fontsize=8)


def _kappa(ax, s: dict) -> None:
    pairs = s["kappa"]
    raters = list(dict.fromkeys(r for p in pairs for r in p.split("|")))
    m = np.eye(len(raters))
    for p, v in pairs.items():
        a, b = (raters.index(r) for r in p.split("|"))
        m[a, b] = m[b, a] = np.nan if v is None else v
    im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(len(raters)), [display_name(r) for r in raters], rotation=30)
    ax.set_yticks(range(len(raters)), [display_name(r) for r in raters])
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set_title("Cohen's κ between raters")
    plt.colorbar(im, ax=ax, fraction=0.046)


def _regions(ax, s: dict) -> None:
    rows = [(k, v) for k, v in s["regions"].items() if v.get("n")]
    if not rows:
        ax.text(0.5, 0.5, "no valid region answers", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    y = np.arange(len(rows))
    ax.scatter([v["hit"] for _, v in rows], y, c="k", zorder=3, label="observed")
    ax.scatter([v["shuffled_hit"] for _, v in rows], y, marker="|", s=200, c="tab:orange", label="shuffled mean")
    ax.scatter([v["shuffled_hit_q95"] for _, v in rows], y, marker="|", s=200, c="tab:red", label="shuffled 95%")
    ax.scatter([v["uniform_hit"] for _, v in rows], y, marker="x", c="tab:blue", label="uniform chance")
    ax.set_yticks(y, [f"{k.replace('|', ' vs ')} (n={v['n']})" for k, v in rows], fontsize=8)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel(f"share of answers with a region in the LRP top {s['top_k']}")
    ax.set_title("Region agreement against its chance levels")
    ax.legend(fontsize=7, loc="lower right")


def _order(ax, s: dict) -> None:
    o = s["order"]
    slots = o["slot_counts"]
    ax.bar([f"Face {k}" for k in slots], list(slots.values()), color="#999999")
    ax.set_ylabel("valid answers naming the slot")
    cons = "–" if o["consistent"] is None or np.isnan(o["consistent"]) else f"{o['consistent']:.2f}"
    chance = "–" if o["chance"] is None or np.isnan(o["chance"]) else f"{o['chance']:.2f}"
    ax.set_title(f"Presentation slot chosen; same face across orders {cons} (chance {chance}, n={o['n_trials']})",
                 fontsize=9)


def vlm_figure(summary: Path | str, out: Path | str) -> None:
    s = json.loads(Path(summary).read_text())
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    _accuracy(axes[0, 0], s)
    _kappa(axes[0, 1], s)
    _regions(axes[1, 0], s)
    _order(axes[1, 1], s)
    fig.suptitle(f"{s['vlm_model']} via {s['backend']}: {s['valid']} of {s['requests']} answers valid", fontsize=10)
    fig.tight_layout()
    save_figure(fig, out)
