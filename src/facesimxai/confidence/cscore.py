"""C-Score-style calibration (seed 001) adapted to odd-one-out decisions.

Seed 001 bins cosine distances, takes the share of correct decisions per bin and fits the sigmoid
c(d) = L / (1 + exp(−k (d − d0))) + b with scipy's `curve_fit(method="dogbox")`, fold-wise, clipped
to [0, 1]. Here the distance is the decision margin (top logit minus the runner-up), "correct" means
agreeing with the reference choice (the human's, by default), and the fit uses validation trials
only: K folds of them give out-of-fold confidences for validation trials, and test trials get the
mean of the K fold curves — so no trial's confidence was fitted on that trial.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import curve_fit

from facesimxai.errors import InputError

log = logging.getLogger(__name__)


class CalibrationError(InputError):
    """The confidence curve cannot be fitted from these trials; the message says why."""


def sigmoid(d: np.ndarray, L: float, d0: float, k: float, b: float) -> np.ndarray:  # noqa: N803 (the paper's names)
    return L / (1.0 + np.exp(-k * (d - d0))) + b


def binned_accuracy(d: np.ndarray, correct: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre, share correct and count of each non-empty bin of equal width over [min d, max d]."""
    edges = np.linspace(d.min(), d.max(), n_bins + 1)
    which = np.clip(np.digitize(d, edges[1:-1]), 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    hits = np.bincount(which, weights=correct.astype(np.float64), minlength=n_bins)
    keep = counts > 0  # empty bins carry no evidence; they are dropped, not read as 0 correct
    centres = (edges[:-1] + edges[1:]) / 2
    return centres[keep], hits[keep] / counts[keep], counts[keep]


def fit_curve(d: np.ndarray, correct: np.ndarray, n_bins: int, chance: float = 1 / 3) -> np.ndarray:
    """Sigmoid parameters (L, d0, k, b) fitted to the per-bin share correct, bins weighted by count."""
    d, correct = np.asarray(d, np.float64), np.asarray(correct, bool)
    if len(d) < 10:
        raise CalibrationError(f"a confidence curve needs at least 10 trials, got {len(d)}")
    if np.ptp(d) == 0:
        raise CalibrationError(f"all {len(d)} trials have the same decision margin ({d[0]:.3g}): the model's "
                               "logits do not vary, so confidence cannot depend on them")
    centres, share, counts = binned_accuracy(d, correct, n_bins)
    if len(centres) < 4:
        raise CalibrationError(f"only {len(centres)} of {n_bins} margin bins hold trials; a 4-parameter "
                               "sigmoid needs at least 4 (more trials or fewer bins)")
    p0 = [max(share.max() - chance, 0.05), float(np.median(d)), 1.0 / (np.std(d) + 1e-9), chance]
    bounds = ([0.0, d.min() - np.ptp(d), 0.0, 0.0], [1.0, d.max() + np.ptp(d), np.inf, 1.0])
    p0 = np.clip(p0, np.array(bounds[0]) + 1e-9, np.array(bounds[1]) - 1e-9)
    # Fits that converge take 8-70 evaluations on simulated margins; 2,000 leaves ample room and
    # stops one that does not (a flat or degenerate curve) in about a second, not twenty. Seed 001's
    # dogbox first; where it does not converge, scipy's other bounded solver (trf) on the same model,
    # bounds and weights: dogbox failed on a noisy, nearly flat curve (the CI config's 32 pairs per
    # fold, 2026-12-04) that trf fitted in 66 evaluations.
    error = None
    for method in ("dogbox", "trf"):
        try:
            params, _ = curve_fit(sigmoid, centres, share, p0=p0, sigma=1.0 / np.sqrt(counts), bounds=bounds,
                                  method=method, maxfev=2000)
        except RuntimeError as exc:
            error = exc
            continue
        if method != "dogbox":
            log.warning("confidence sigmoid: dogbox did not converge (%s); fitted with %s", error, method)
        return params
    raise CalibrationError(f"the confidence sigmoid did not converge (dogbox, trf): {error}")


def confidence(d: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Calibrated probability that the decision is correct, clipped to [0, 1] as in seed 001."""
    return np.clip(sigmoid(np.asarray(d, np.float64), *params), 0.0, 1.0)


def crossfit(d_val: np.ndarray, correct_val: np.ndarray, d_other: np.ndarray, n_bins: int, folds: int,
             seed: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Out-of-fold confidences of validation trials, mean fold-curve confidences of other trials,
    and each fold's parameters."""
    n = len(d_val)
    if folds < 2 or n < 2 * folds:
        raise CalibrationError(f"{folds}-fold calibration needs at least {2 * folds} validation trials, got {n}")
    fold = np.random.default_rng(seed).permutation(n) % folds
    oof = np.empty(n)
    other = np.zeros(len(d_other))
    fits = []
    for f in range(folds):
        params = fit_curve(d_val[fold != f], correct_val[fold != f], n_bins)
        oof[fold == f] = confidence(d_val[fold == f], params)
        other += confidence(d_other, params) / folds
        fits.append(params)
    return oof, other, fits


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    """ECE: |accuracy − mean confidence| per confidence bin on [0, 1], weighted by bin size."""
    conf, correct = np.asarray(conf, np.float64), np.asarray(correct, np.float64)
    if len(conf) == 0:
        raise CalibrationError("the expected calibration error needs at least one trial")
    which = np.clip((conf * n_bins).astype(int), 0, n_bins - 1)
    total = 0.0
    for b in np.unique(which):
        sel = which == b
        total += sel.sum() * abs(correct[sel].mean() - conf[sel].mean())
    return float(total / len(conf))


def reliability(conf: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> list[dict]:
    """Per confidence bin: mean confidence, accuracy and count (the reliability diagram's points)."""
    which = np.clip((np.asarray(conf) * n_bins).astype(int), 0, n_bins - 1)
    return [{"bin": int(b), "confidence": float(np.mean(conf[which == b])),
             "accuracy": float(np.mean(correct[which == b])), "n": int((which == b).sum())}
            for b in np.unique(which)]
