"""Fold-wise decision thresholds and C-Scores of verification pairs (seed 001, section 3.1).

Thresholds follow the LFW protocol: each fold's threshold maximises the verification accuracy on
the other folds. The C-Score fits seed 001's sigmoid ``c = L / (1 + exp(-k (s - s0))) + b`` to the
per-bin share of genuine pairs among the calibration folds' pairs (equal-width bins of the score;
the paper's 400 by default), reusing ``confidence.cscore``'s dogbox fit; then
``C = c(s)`` for an accepted pair and ``1 - c(s)`` for a rejected one (Eq. 3). Scores here are
cosine *similarities* (the paper bins distances, d = 1 - s), so the share of genuine pairs rises
with s and the paper's "d ≤ t" is "s ≥ t". Eq. 3 gives values in [0.5, 1] only where the fitted
curve crosses 0.5 at the threshold; elsewhere it is clipped to 0.5 and the count is reported.
"""

from __future__ import annotations

import numpy as np

from facesimxai.confidence.cscore import confidence, fit_curve


def best_threshold(scores: np.ndarray, genuine: np.ndarray) -> float:
    """The accuracy-maximising threshold (accept when score ≥ t), the midpoint between the two
    neighbouring scores so it does not sit on a calibration pair; ties go to the lowest t."""
    s = np.sort(np.unique(scores))
    candidates = np.r_[s[0] - 1.0, (s[:-1] + s[1:]) / 2, s[-1] + 1.0]
    acc = [np.mean((scores >= t) == genuine) for t in candidates]
    return float(candidates[int(np.argmax(acc))])


def cross_fold_thresholds(scores: np.ndarray, genuine: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Per pair, the threshold chosen on the pairs of every other fold."""
    out = np.empty(len(scores))
    for f in np.unique(folds):
        rows = folds == f
        out[rows] = best_threshold(scores[~rows], genuine[~rows])
    return out


def c_score(scores: np.ndarray, threshold: np.ndarray | float, params: np.ndarray) -> tuple[np.ndarray, int]:
    """Eq. 3 with the fitted curve, and how many values had to be raised to 0.5."""
    c = confidence(scores, params)
    raw = np.where(scores >= threshold, c, 1.0 - c)
    return np.maximum(raw, 0.5), int((raw < 0.5).sum())


def cross_fold_c_scores(scores: np.ndarray, genuine: np.ndarray, folds: np.ndarray, threshold: np.ndarray,
                        n_bins: int) -> tuple[np.ndarray, int]:
    """C-Score of every pair from the curve fitted on the other folds; total clipped count."""
    out, clipped = np.empty(len(scores)), 0
    for f in np.unique(folds):
        rows = folds == f
        params = fit_curve(scores[~rows], genuine[~rows], n_bins, chance=0.0)
        out[rows], n = c_score(scores[rows], threshold[rows], params)
        clipped += n
    return out, clipped
