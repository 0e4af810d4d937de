"""The explainer-validity figure: which explainers follow the known answer, and which ignore the model."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from facesimxai.artifacts.gates import RANDOMISED_HEAD_GATE, TRUTH_GATE  # noqa: E402
from facesimxai.plotting import save_figure  # noqa: E402
from facesimxai.vocabulary import MODEL_NAMES  # noqa: E402


def plot_explainer_validity(validity: Path | str, sanity: Path | str, out: Path | str) -> None:
    """Per model: within-trial ρ with the renderer truth, the observers and region Shapley per
    explainer (floors hatched), and ρ between trained and randomised-head maps."""
    v = pd.read_csv(validity)
    models = list(dict.fromkeys(v["model"]))
    fig, axes = plt.subplots(len(models), 2, figsize=(14, 3.6 * len(models)), squeeze=False)
    for row, m in zip(axes, models, strict=True):
        d = v[v["model"] == m].reset_index(drop=True)
        x = np.arange(len(d))
        ax = row[0]
        for k, (col, label) in enumerate((("rho_vs_truth_within", "renderer truth"),
                                          ("rho_vs_observers_within", "observers"),
                                          ("rho_vs_region_shapley_within", "region Shapley"))):
            bars = ax.bar(x + (k - 1) * 0.27, d[col], 0.27, label=label)
            for b, kind in zip(bars, d["kind"], strict=True):
                if kind == "floor":
                    b.set_hatch("//")
        ax.axhline(TRUTH_GATE, color="k", ls="--", lw=1, label=f"gate {TRUTH_GATE}")
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set_xticks(x, [f"{e}{' ✓' if p else ''}" for e, p in zip(d["explainer"], d["passed"], strict=True)],
                      rotation=35, ha="right", fontsize=8)
        ax.set_ylabel("within-trial Spearman ρ")
        ax.set_title(f"{MODEL_NAMES.get(m, m)}: region values vs known answers (✓ = passed)", fontsize=10)
        ax.legend(fontsize=7, ncol=2)
        ax = row[1]
        e = d[d["kind"] == "explainer"]
        ax.bar(np.arange(len(e)), e["randomised_head_rho"], color="tab:red")
        ax.axhline(RANDOMISED_HEAD_GATE, color="k", ls="--", lw=1, label=f"must be ≤ {RANDOMISED_HEAD_GATE}")
        ax.set_xticks(np.arange(len(e)), e["explainer"], rotation=35, ha="right", fontsize=8)
        ax.set_ylim(-0.1, 1.05)
        ax.set_ylabel("ρ(|region values|: trained vs random head)")
        ax.set_title("Sanity: maps after randomising the head", fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out)
