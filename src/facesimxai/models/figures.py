"""Training figure of the models stage (caption: workflow/report/training.rst)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from facesimxai.artifacts.gates import AGREEMENT_GATE, PROBE_GATE, validity_verdicts  # noqa: E402
from facesimxai.plotting import save_figure  # noqa: E402

log = logging.getLogger(__name__)


def plot_training(backbone_metrics: Path | str, head_metrics: list[Path | str], out: Path | str) -> None:
    bb = json.loads(Path(backbone_metrics).read_text())
    heads = [json.loads(Path(p).read_text()) for p in head_metrics]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ax = axes[0]
    if bb["source"] == "pretrain":
        ep = [h["epoch"] for h in bb["history"]]
        ax.plot(ep, [h["train_accuracy"] for h in bb["history"]], label="train renders (running)")
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
    save_figure(fig, out)


def plot_model_validity(probe_path: Path | str, generalisation_path: Path | str,
                        interventional_path: Path | str | None, out: Path | str) -> None:
    """Probe R² per group and layer; agreement on unseen faces; interventional mean |φ| per group."""

    probe = json.loads(Path(probe_path).read_text())
    gen = json.loads(Path(generalisation_path).read_text())
    inter = json.loads(Path(interventional_path).read_text()) if interventional_path else None
    from facesimxai.data.face_params import GROUPS

    groups = list(GROUPS)
    layers = [probe["core_layer"], *[k for k in ("maxp_5_3", "pixels") if k in probe and k != probe["core_layer"]]]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    ax = axes[0]
    width = 0.8 / len(layers)
    for i, layer in enumerate(layers):
        ax.bar([g + i * width for g in range(len(groups))], [probe[layer][g] for g in groups], width, label=layer)
    ax.axhline(PROBE_GATE, color="k", ls="--", lw=1, label=f"gate {PROBE_GATE}")
    ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], groups)
    ax.set_ylim(min(-0.2, min(min(probe[la].values()) for la in layers)), 1.02)
    ax.set_ylabel("cross-validated R² on unseen faces")
    ax.set_title(f"Probe: what the backbone encodes\n({probe['n_faces']} unseen faces)", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[1]
    names = list(gen)
    vals = [gen[n].get("unseen_agreement_mean_observer", gen[n].get("unseen_agreement_maxp_rule", float("nan")))
            for n in names]
    ax.bar(names, vals, color=["C0" if "unseen_agreement_mean_observer" in gen[n] else "C1" for n in names])
    ax.axhline(1 / 3, color="k", ls="--", lw=1, label="chance")
    ceilings = {gen[n]["noise_ceiling"] for n in names if "unseen_agreement_mean_observer" in gen[n]}
    for c in ceilings:
        ax.axhline(c, color="C2", ls=":", lw=1.5, label=f"noise ceiling {c:.2f}")
    floors = {gen[n]["feature_distance_floor"] for n in names if "feature_distance_floor" in gen[n]}
    for f in floors:  # plain Euclidean distance over core features, nothing learned
        ax.axhline(f, color="C7", ls="--", lw=1, label=f"feature-distance floor {f:.2f}")
    ax.axhline(AGREEMENT_GATE, color="C3", ls="-.", lw=1, label=f"gate {AGREEMENT_GATE}")
    ax.set_ylim(0, 1)
    ax.set_ylabel("agreement on unseen faces")
    ax.set_title("Generalisation to unseen faces\n(blue: vs mean observer; orange: vs MaxP rule)", fontsize=10)
    ax.legend(fontsize=8)
    ax = axes[2]
    if inter:
        models = [m for m in inter if isinstance(inter[m], dict) and "mean_abs_phi" in inter[m]]
        series = {f"{m}": inter[m]["mean_abs_phi"] for m in models}
        refs = {inter[m]["reference"]: inter[m][f"{inter[m]['reference']}_mean_abs_phi"] for m in models}
        series.update({f"{r} (truth)": v for r, v in refs.items()})
        width = 0.8 / len(series)
        for i, (label, phi) in enumerate(series.items()):
            total = sum(phi.values()) or 1.0
            ax.bar([g + i * width for g in range(len(groups))], [phi[g] / total for g in groups], width, label=label)
        ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], groups)
        ax.set_ylabel("share of mean |Shapley value|")
        ax.set_title(f"Interventional truth\n({inter['n_trials']} triplets of unseen faces)", fontsize=10)
        ax.legend(fontsize=7)
    else:
        ax.text(0.5, 0.5, "no interventional truth (real data)", ha="center", va="center")
        ax.set_axis_off()
    verdicts = validity_verdicts(probe, gen, inter)
    fig.suptitle("\n".join(verdicts) if verdicts else "Every model-validity gate holds.", fontsize=9,
                 color="C3" if verdicts else "C2", y=1.02 + 0.03 * len(verdicts))
    save_figure(fig, out)
