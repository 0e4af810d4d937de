"""C-Score-style calibration on a synthetic, over-confident model with a known accuracy curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax

from facesimxai.confidence.cscore import (
    CalibrationError,
    binned_accuracy,
    crossfit,
    expected_calibration_error,
    fit_curve,
)
from facesimxai.models.predict import margin


def synthetic(n: int, seed: int):
    """Logits whose margin d sets the true chance of a correct decision, 1/3 + 1/3·σ(3(d − 1)),
    while the softmax approaches 1: an over-confident model."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0, 3, n)
    logits = np.zeros((n, 3))
    logits[:, 0] = 4 * d  # the model's choice (position 0)
    logits[:, 1] = 3 * d
    p_true = 1 / 3 + 1 / 3 / (1 + np.exp(-3 * (d - 1)))
    correct = rng.random(n) < p_true
    return logits, correct, p_true


def test_margin_is_top_minus_runner_up():
    assert margin(np.array([[1.0, 3.0, 2.5], [0.0, 0.0, 0.0]])).tolist() == [0.5, 0.0]


def test_calibration_improves_ece_on_an_overconfident_model():
    val_logits, val_correct, _ = synthetic(3000, 0)
    test_logits, test_correct, p_true = synthetic(3000, 1)
    before = softmax(test_logits, axis=1).max(1)
    oof, after, fits = crossfit(margin(val_logits), val_correct, margin(test_logits), n_bins=20, folds=5, seed=0)
    ece_before = expected_calibration_error(before, test_correct)
    ece_after = expected_calibration_error(after, test_correct)
    assert ece_before > 0.15 and ece_after < 0.05 and ece_after < ece_before / 4
    assert np.abs(after - p_true).mean() < 0.05  # the curve recovers the planted accuracy
    assert len(fits) == 5 and expected_calibration_error(oof, val_correct) < 0.06
    again = crossfit(margin(val_logits), val_correct, margin(test_logits), n_bins=20, folds=5, seed=0)[1]
    assert np.array_equal(after, again)  # seeded folds


def test_empty_bins_are_dropped_not_counted_as_wrong():
    d = np.array([0.0] * 10 + [1.0] * 10 + [3.0] * 10 + [4.0] * 10)  # bins around 2 are empty
    centres, share, counts = binned_accuracy(d, np.ones(40, bool), 8)
    assert len(centres) == 4 and (share == 1).all() and counts.sum() == 40
    fit_curve(d, np.r_[np.zeros(10), np.ones(30)].astype(bool), 8)  # fits despite the gap


def test_degenerate_inputs_fail_with_a_clear_message():
    with pytest.raises(CalibrationError, match="same decision margin"):
        fit_curve(np.full(50, 0.3), np.ones(50, bool), 10)
    with pytest.raises(CalibrationError, match="at least 10 trials"):
        fit_curve(np.arange(5.0), np.ones(5, bool), 10)
    with pytest.raises(CalibrationError, match="only 2 of 10 margin bins"):
        fit_curve(np.r_[np.zeros(20), np.ones(20)], np.ones(40, bool), 10)
    with pytest.raises(CalibrationError, match="needs at least 10 validation trials"):
        crossfit(np.arange(6.0), np.ones(6, bool), np.arange(3.0), 10, folds=5, seed=0)
    with pytest.raises(CalibrationError, match="at least one trial"):
        expected_calibration_error(np.array([]), np.array([]))


def predictions_frame(logits: np.ndarray, correct: np.ndarray, split: np.ndarray) -> pd.DataFrame:
    pred = logits.argmax(1)
    human = np.where(correct, pred, (pred + 1) % 3)
    return pd.DataFrame({"trial_id": np.arange(len(pred)), "split": split, "model": "hum", "pred_pos": pred,
                         "human_odd": human, "margin": margin(logits), "softmax_conf": softmax(logits, axis=1).max(1)})


def test_calibrate_model_reports_ece_and_survives_a_dead_head(tmp_path):
    from facesimxai.confidence.run import calibrate_model, run_confidence

    logits, correct, _ = synthetic(1200, 3)
    split = np.array(["train", "val", "test"])[np.arange(1200) % 3]
    df, summary = calibrate_model(predictions_frame(logits, correct, split), {"n_bins": 15, "folds": 4, "seed": 0,
                                                                              "ece_bins": 10})
    assert summary["calibrated"] and summary["ece_after"] < summary["ece_before"]
    assert df["confidence"].between(0, 1).all() and df["correct"].equals(df["pred_pos"] == df["human_odd"])
    dead = predictions_frame(np.tile([0.1, 0.5, 0.2], (60, 1)), np.ones(60, bool), split[:60])
    df, summary = calibrate_model(dead, {"n_bins": 15, "folds": 4, "seed": 0, "ece_bins": 10})
    assert not summary["calibrated"] and "same decision margin" in summary["reason"]
    assert df["confidence"].isna().all()
    path = tmp_path / "p.parquet"
    predictions_frame(logits, correct, split).to_parquet(path)
    table = run_confidence([path], {"n_bins": 15, "folds": 4, "seed": 0, "ece_bins": 10}, tmp_path / "t.parquet",
                           tmp_path / "s.json", tmp_path / "f.png")
    assert len(table) == 1200 and (tmp_path / "t.csv").exists() and (tmp_path / "f.png").stat().st_size > 10_000


def test_a_curve_dogbox_cannot_fit_is_fitted_by_trf(caplog):
    """Regression (CI config, 2026-12-04): 32 verification pairs whose similarity barely separates
    genuine from impostor; dogbox exceeded its evaluations and failed the verification rule."""
    import logging

    from scipy.optimize import curve_fit

    from facesimxai.confidence.cscore import binned_accuracy, fit_curve, sigmoid

    d = np.array([0.985865379932745, 0.9840602930682472, 0.9913028530043279, 0.9929501159843492, 0.9770258129283915,
                  0.9652242202472482, 0.9913500602671179, 0.9884581109051476, 0.99278185970631, 0.992840024887941,
                  0.9785126596229726, 0.9750075476710363, 0.9742905180556272, 0.9884905234075144, 0.952723893094906,
                  0.9927694357894861, 0.986443690866432, 0.9806493393656328, 0.9797389771473903, 0.9971319583575319,
                  0.9819093231774613, 0.9919622378658689, 0.9871142732410034, 0.9877792738547722, 0.9824402365020841,
                  0.9864130615475974, 0.979755769826143, 0.9871195758911899, 0.9926921881098496, 0.989739670932746,
                  0.9804709976809207, 0.9905884265503312])
    genuine = np.array([1] * 8 + [0] * 8 + [1] * 8 + [0] * 8, bool)
    centres, share, counts = binned_accuracy(d, genuine, 12)
    with pytest.raises(RuntimeError):  # the failure the fallback exists for
        curve_fit(sigmoid, centres, share, p0=[share.max(), np.median(d), 1 / np.std(d), 0.0],
                  sigma=1 / np.sqrt(counts), method="dogbox", maxfev=2000,
                  bounds=([0, d.min() - np.ptp(d), 0, 0], [1, d.max() + np.ptp(d), np.inf, 1]))
    with caplog.at_level(logging.WARNING, logger="facesimxai.confidence.cscore"):
        params = fit_curve(d, genuine, 12, chance=0.0)
    assert np.isfinite(params).all() and "fitted with trf" in caplog.text
    # the fitted curve follows the binned shares better than the constant mean share does
    fitted = sigmoid(centres, *params)
    assert np.sum(counts * (fitted - share) ** 2) < np.sum(counts * (share @ counts / counts.sum() - share) ** 2)
