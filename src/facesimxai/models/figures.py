"""Training figure of the models stage (caption: workflow/report/training.rst)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from facesimxai.io import atomic_path  # noqa: E402

log = logging.getLogger(__name__)


def plot_training(backbone_metrics: Path | str, head_metrics: list[Path | str], out: Path | str) -> None:
    bb = json.loads(Path(backbone_metrics).read_text())
    heads = [json.loads(Path(p).read_text()) for p in head_metrics]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ax = axes[0]
    if bb["source"] == "pretrain":
        ep = [h["epoch"] for h in bb["history"]]
        ax.plot(ep, [h["train_accuracy"] for h in bb["history"]], label="train renders")
        ax.plot(ep, [h["val_accuracy"] for h in bb["history"]], label="held-out renders")
        ax.axhline(bb["chance"], color="k", ls="--", lw=1, label="chance")
        ax.set_xlabel("epoch")
        ax.set_ylabel("identity accuracy")
        ax.set_title(f"Backbone pretraining ({bb['n_identities']} identities)")
        ax.legend(fontsize=8)
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, f"VGG-Face weights loaded from\n{bb['weights']}", ha="center", va="center")
    ax = axes[1]
    for h in heads:
        ep = [r["epoch"] for r in h["history"]]
        name = f"VGG-{h['model'].capitalize()}"
        line, = ax.plot(ep, [r["val_accuracy"] for r in h["history"]], label=f"{name} val")
        ax.plot(ep, [r["train_accuracy"] for r in h["history"]], color=line.get_color(), alpha=0.4,
                label=f"{name} train")
        ax.plot([h["best_epoch"]], [h["val_accuracy"]], "o", color=line.get_color())
    ax.axhline(1 / 3, color="k", ls="--", lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("odd-one-out accuracy")
    ax.set_title("Triplet heads")
    ax.legend(fontsize=8)
    ax = axes[2]
    names = [f"VGG-{h['model'].capitalize()}" for h in heads]
    x = range(len(heads))
    ax.bar([i - 0.2 for i in x], [h["test_accuracy"] for h in heads], 0.4, label="vs own targets")
    ax.bar([i + 0.2 for i in x], [h["test_accuracy_vs_recorded_choice"] for h in heads], 0.4,
           label="vs recorded choices")
    ax.axhline(1 / 3, color="k", ls="--", lw=1, label="chance")
    ax.set_xticks(list(x), names)
    ax.set_ylim(0, 1)
    ax.set_title("Test accuracy")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    log.info("wrote figure %s", out)
