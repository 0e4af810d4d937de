"""Verification figures: ROC and DET curves, the C-Score reliability diagram, and X-Maps."""

from __future__ import annotations

import colorsys
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from PIL import Image  # noqa: E402
from scipy.stats import norm  # noqa: E402

from facesimxai.confidence.cscore import expected_calibration_error, reliability  # noqa: E402
from facesimxai.io import open_zarr  # noqa: E402
from facesimxai.plotting import save_figure  # noqa: E402
from facesimxai.verification.metrics import error_curves  # noqa: E402


def blend(image: np.ndarray, smap: np.ndarray, cmap: str = "RdYlGn") -> np.ndarray:
    """Algorithm 2: the map coloured by ``cmap`` (red = dissimilar, green = similar) gives hue
    (HLS) and saturation (HSV), the face gives lightness (HLS). ``image`` is (H, W, 3) uint8 and
    ``smap`` (H, W) in [-1, 1]; returns (H, W, 3) uint8.

    Written per pixel with the standard library's ``colorsys`` because neither numpy nor
    matplotlib has an HLS conversion; display only (one face is ~12,500 pixels at 112 px).
    """
    coloured = colormaps[cmap]((np.clip(smap, -1, 1) + 1) / 2)[..., :3]
    img = image.astype(np.float64) / 255.0
    out = np.empty_like(img)
    for idx in np.ndindex(smap.shape):
        _, lum, _ = colorsys.rgb_to_hls(*img[idx])
        hue, _, _ = colorsys.rgb_to_hls(*coloured[idx])
        _, sat, _ = colorsys.rgb_to_hsv(*coloured[idx])
        out[idx] = colorsys.hls_to_rgb(hue, lum, sat)
    return np.round(out * 255).astype(np.uint8)


def plot_error_curves(scores: Path | str, metrics: Path | str, out: Path | str) -> None:
    """ROC (TMR against FMR) and DET (FNMR against FMR on normal-deviate axes), pooled and per
    fold, with the smallest FMR the impostor pairs can resolve marked."""
    df, m = pd.read_parquet(scores), json.loads(Path(metrics).read_text())
    fig, (roc, det) = plt.subplots(1, 2, figsize=(10, 4.4))
    for fold, g in df.groupby("fold"):
        c = error_curves(g["similarity"].to_numpy(), g["genuine"].to_numpy())
        roc.plot(c["fmr"], 1 - c["fnmr"], color="0.75", lw=0.8, label="folds" if fold == df["fold"].min() else None)
    c = error_curves(df["similarity"].to_numpy(), df["genuine"].to_numpy())
    p = m["pooled"]
    roc.plot(c["fmr"], 1 - c["fnmr"], color="tab:blue", lw=2, label=f"pooled (AUC {p['auc']:.3f})")
    roc.plot([0, 1], [0, 1], ls="--", color="0.6", lw=1)
    roc.set(xlabel="false match rate", ylabel="true match rate", title="ROC", xlim=(0, 1), ylim=(0, 1))
    roc.legend(fontsize=8, loc="lower right")
    eps = 0.5 / max(p["n_impostor"], p["n_genuine"])
    fmr, fnmr = np.clip(c["fmr"], eps, 1 - eps), np.clip(c["fnmr"], eps, 1 - eps)
    det.plot(norm.ppf(fmr), norm.ppf(fnmr), color="tab:blue", lw=2)
    at = norm.ppf(np.clip(p["eer"], eps, 1 - eps))  # an EER of 0 sits on the axis, not at −∞
    det.plot(at, at, "o", color="tab:red", label=f"EER {100 * p['eer']:.2f}%")
    det.axvline(norm.ppf(p["min_resolvable_fmr"]), color="0.6", ls=":", lw=1,
                label=f"smallest resolvable FMR 1/{p['n_impostor']}")
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8])
    det.set_xticks(norm.ppf(ticks), [f"{100 * t:g}%" for t in ticks])
    det.set_yticks(norm.ppf(ticks), [f"{100 * t:g}%" for t in ticks])
    lim = norm.ppf([eps, 1 - eps])
    det.set(xlabel="false match rate", ylabel="false non-match rate", title="DET", xlim=lim, ylim=lim)
    det.legend(fontsize=8, loc="upper right")
    fig.suptitle(f"Verification at {m['layer']}: {p['n_genuine']} genuine, {p['n_impostor']} impostor pairs, "
                 f"accuracy {100 * p['accuracy']:.1f}% (threshold per fold from the other folds)", fontsize=9)
    save_figure(fig, out)


def plot_c_score_reliability(scores: Path | str, out: Path | str, n_bins: int = 10) -> None:
    """Share of correct decisions per C-Score bin against the bin's mean C-Score."""
    df = pd.read_parquet(scores)
    conf, correct = df["c_score"].to_numpy(), df["correct"].to_numpy(bool)
    pts = reliability(conf, correct, n_bins)
    fig, ax = plt.subplots(figsize=(4.6, 4.2))
    ax.plot([0.5, 1], [0.5, 1], ls="--", color="0.6", lw=1, label="perfect calibration")
    ax.plot([q["confidence"] for q in pts], [q["accuracy"] for q in pts], "o-", color="tab:blue",
            label=f"C-Score (ECE {expected_calibration_error(conf, correct, n_bins):.3f})")
    for q in pts:
        ax.annotate(str(q["n"]), (q["confidence"], q["accuracy"]), fontsize=7, xytext=(3, -9),
                    textcoords="offset points")
    ax.set(xlim=(0.45, 1.02), ylim=(0, 1.02), xlabel="C-Score (fitted on the other folds)",
           ylabel="share of correct decisions", title="C-Score reliability (pairs per bin)")
    ax.legend(fontsize=8, loc="lower right")
    save_figure(fig, out)


def plot_xmaps(faces: Path | str, xmaps: Path | str, scores: Path | str, out: Path | str, n_pairs: int = 4) -> None:
    """For a few pairs: both images and, per method, both X-Maps blended into them (Algorithm 2)."""
    ds, fs = open_zarr(xmaps), open_zarr(faces)
    sc = pd.read_parquet(scores).set_index("pair_id")
    methods = [int(m) for m in ds["method"].values]
    n = min(n_pairs, ds.sizes["pair"])
    size = ds.sizes["y"]
    fig, axes = plt.subplots(n, 2 + 2 * len(methods), figsize=(1.6 * (2 + 2 * len(methods)), 1.8 * n + 0.4),
                             squeeze=False)
    for row in range(n):
        pid = int(ds["pair_id"][row])
        s = sc.loc[pid]
        faces_ab = [np.asarray(Image.fromarray(fs["image"][int(ds[k][row])].to_numpy()).resize((size, size),
                                                                                       Image.LANCZOS))
                    for k in ("a", "b")]  # the maps are at the model's input size
        for k, f in enumerate(faces_ab):
            axes[row, k].imshow(f)
        axes[row, 0].set_ylabel(f"pair {pid}\n{'genuine' if s['genuine'] else 'impostor'}\n"
                                f"s={s['similarity']:.2f}, C={s['c_score']:.2f}", fontsize=7)
        for m, method in enumerate(methods):
            for side in (0, 1):
                ax = axes[row, 2 + 2 * m + side]
                ax.imshow(blend(faces_ab[side], ds["xmap"][row, m, side].to_numpy()))
                if row == 0:
                    ax.set_title(f"method {method}, image {'AB'[side]}", fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("X-Maps: green = similar (occluding it raises the distance), red = dissimilar", fontsize=9)
    save_figure(fig, out)


def plot_truth(truth: Path | str, out: Path | str) -> None:
    """Hit rate (bars) and dissimilar share against area share (dots) per group and method."""
    summary = json.loads(Path(truth).read_text())
    df = pd.DataFrame(summary["per_method_group"])
    groups, methods = summary["groups"], sorted(df["method"].unique())
    fig, (hit, share) = plt.subplots(1, 2, figsize=(11, 3.8))
    width = 0.8 / len(methods)
    for k, m in enumerate(methods):
        g = df[df["method"] == m].set_index("group").loc[groups]
        x = np.arange(len(groups)) + (k - (len(methods) - 1) / 2) * width
        hit.bar(x, g["hit"], width, label=f"method {m} ({100 * summary['per_method'][str(m)]['hit_rate']:.0f}%)")
        share.plot(x, g["dissimilar_share"], "o", label=f"method {m}")
        share.plot(x, g["area_share"], "_", color="0.3", markersize=12, label="changed area" if k == 0 else None)
    for ax, label in ((hit, "hit rate (minimum in the changed pixels)"),
                      (share, "share of dissimilar mass in the changed pixels")):
        ax.set_xticks(np.arange(len(groups)), groups)
        ax.set(ylim=(0, 1.02), ylabel=label)
        ax.legend(fontsize=7)
    fig.suptitle(f"X-Maps on impostor pairs differing in one parameter group ({summary['n_bases']} base faces)",
                 fontsize=9)
    save_figure(fig, out)


def plot_verification(*, faces: Path | str, scores: Path | str, metrics: Path | str, xmaps: Path | str,
                      truth: Path | str, curves_out: Path | str, reliability_out: Path | str,
                      xmaps_out: Path | str, truth_out: Path | str) -> None:
    """The verification stage's figures."""
    plot_error_curves(scores, metrics, curves_out)
    plot_c_score_reliability(scores, reliability_out)
    plot_xmaps(faces, xmaps, scores, xmaps_out)
    plot_truth(truth, truth_out)
