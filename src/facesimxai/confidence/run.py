"""Calibrate every triplet model's confidence on validation trials and evaluate it on test trials."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from facesimxai.confidence.cscore import CalibrationError, crossfit, expected_calibration_error, reliability
from facesimxai.io import write_json, write_parquet
from facesimxai.plotting import save_figure
from facesimxai.vocabulary import MODEL_NAMES

log = logging.getLogger(__name__)


def calibrate_model(df: pd.DataFrame, cfg: dict) -> tuple[pd.DataFrame, dict]:
    """Add `correct` (agrees with the human choice) and `confidence` (calibrated) to one model's trials.

    A model whose validation decisions cannot carry a curve (constant logits, too few trials) gets
    NaN confidences and the reason in its summary; the other models still get theirs.
    """
    df = df.copy()
    df["correct"] = df["pred_pos"] == df["human_odd"]
    val = (df["split"] == "val").to_numpy()
    test = (df["split"] == "test").to_numpy()
    summary = {"reference": "human choice", "n_val": int(val.sum()), "n_test": int(test.sum())}
    try:
        oof, other, fits = crossfit(df.loc[val, "margin"].to_numpy(), df.loc[val, "correct"].to_numpy(),
                                    df.loc[~val, "margin"].to_numpy(), cfg["n_bins"], cfg["folds"], cfg["seed"])
    except CalibrationError as exc:
        df["confidence"] = np.nan
        log.warning("%s: no calibrated confidence: %s", df["model"].iat[0], exc)
        return df, {**summary, "calibrated": False, "reason": str(exc)}
    df.loc[val, "confidence"] = oof
    df.loc[~val, "confidence"] = other
    summary.update(calibrated=True, fold_params=[dict(zip(("L", "d0", "k", "b"), map(float, p), strict=True))
                                                 for p in fits])
    if test.any():
        t = df[test]
        ok, bins = t["correct"].to_numpy(), cfg["ece_bins"]
        before, after = t["softmax_conf"].to_numpy(), t["confidence"].to_numpy()
        summary.update(test_accuracy=float(ok.mean()),
                       ece_before=expected_calibration_error(before, ok, bins),
                       ece_after=expected_calibration_error(after, ok, bins),
                       reliability_before=reliability(before, ok, bins),
                       reliability_after=reliability(after, ok, bins))
        log.info("%s: test ECE %.3f (softmax) -> %.3f (calibrated), accuracy %.3f", df["model"].iat[0],
                 summary["ece_before"], summary["ece_after"], summary["test_accuracy"])
    return df, summary


def plot_reliability(summary: dict, out: Path | str) -> None:
    models = list(summary)
    fig, axes = plt.subplots(1, len(models), figsize=(4.2 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        s = summary[model]
        ax.plot([0, 1], [0, 1], color="0.6", lw=1, ls="--", label="perfect calibration")
        if s.get("calibrated") and "reliability_before" in s:
            for key, label, colour in (("before", "softmax", "tab:red"), ("after", "calibrated", "tab:blue")):
                pts = s[f"reliability_{key}"]
                ax.plot([p["confidence"] for p in pts], [p["accuracy"] for p in pts], "o-", color=colour,
                        label=f"{label} (ECE {s[f'ece_{key}']:.3f})")
            ax.legend(fontsize=8, loc="upper left")
        else:
            ax.text(0.5, 0.5, s.get("reason", "no test trials"), ha="center", va="center", wrap=True, fontsize=8)
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="agreement with the human choice",
               title=f"{MODEL_NAMES.get(model, model)} — test trials")
        ax.axhline(1 / 3, color="0.8", lw=1)
    save_figure(fig, out)


def run_confidence(predictions: list[Path | str], cfg: dict, table_out: Path | str, summary_out: Path | str,
                   figure_out: Path | str) -> pd.DataFrame:
    frames, summary = [], {}
    for path in predictions:
        df, s = calibrate_model(pd.read_parquet(path), cfg)
        frames.append(df)
        summary[df["model"].iat[0]] = s
    table = pd.concat(frames, ignore_index=True)
    write_parquet(table, table_out, csv=True)
    write_json(summary, summary_out)
    plot_reliability(summary, figure_out)
    return table
