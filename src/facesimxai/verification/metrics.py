"""Verification error rates from similarity scores (ISO/IEC 19795-1 terms, as seed 004 reports them).

A pair is accepted when its score (cosine similarity) is at or above the threshold. FMR is the
share of impostor pairs accepted, FNMR the share of genuine pairs rejected. The ROC and DET
curves come from scikit-learn (``roc_curve``, which lists every distinct threshold); EER is where
FMR and FNMR cross, interpolated linearly between the two thresholds that bracket it; FNMR at a
target FMR is read at the lowest threshold whose FMR does not exceed the target. With n impostor
pairs the smallest non-zero FMR that can be measured is 1/n: a target below it is reported as
not resolvable (``None``) next to that floor instead of as a number the data cannot support.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve

FMR_TARGETS = (1e-2, 1e-3, 1e-4)


def error_curves(scores: np.ndarray, genuine: np.ndarray) -> dict[str, np.ndarray]:
    """FMR, FNMR and threshold at every distinct score (thresholds descending)."""
    genuine = np.asarray(genuine, bool)
    if genuine.all() or not genuine.any():
        raise ValueError("verification metrics need both genuine and impostor pairs")
    fmr, tmr, thresholds = roc_curve(genuine, np.asarray(scores, np.float64), drop_intermediate=False)
    return {"fmr": fmr, "fnmr": 1.0 - tmr, "threshold": thresholds}


def equal_error_rate(fmr: np.ndarray, fnmr: np.ndarray, thresholds: np.ndarray) -> tuple[float, float]:
    """(EER, threshold) where FMR and FNMR cross, linearly interpolated (FMR rises, FNMR falls
    along descending thresholds)."""
    diff = fmr - fnmr
    k = int(np.argmax(diff >= 0))  # first point where FMR has reached FNMR
    if k == 0:
        return float(fmr[0]), float(thresholds[0])
    lo, hi = diff[k - 1], diff[k]
    t = lo / (lo - hi) if hi != lo else 0.0
    eer = fmr[k - 1] + t * (fmr[k] - fmr[k - 1])
    thr = thresholds[k - 1] + t * (thresholds[k] - thresholds[k - 1]) if np.isfinite(thresholds[k - 1]) \
        else thresholds[k]
    return float(eer), float(thr)


def fnmr_at_fmr(fmr: np.ndarray, fnmr: np.ndarray, target: float, n_impostor: int) -> float | None:
    """FNMR at the lowest threshold whose FMR is ≤ ``target``; None when 1/n_impostor > target."""
    if 1.0 / n_impostor > target:
        return None
    return float(fnmr[np.flatnonzero(fmr <= target)[-1]])


def verification_metrics(scores: np.ndarray, genuine: np.ndarray,
                         fmr_targets: tuple[float, ...] = FMR_TARGETS) -> dict:
    """AUC, EER (and its threshold), FNMR at each target FMR and the measurable FMR floor."""
    genuine = np.asarray(genuine, bool)
    curves = error_curves(scores, genuine)
    eer, thr = equal_error_rate(curves["fmr"], curves["fnmr"], curves["threshold"])
    n_imp = int((~genuine).sum())
    return {
        "n_genuine": int(genuine.sum()), "n_impostor": n_imp,
        "auc": float(roc_auc_score(genuine, scores)), "eer": eer, "eer_threshold": thr,
        "min_resolvable_fmr": 1.0 / n_imp,
        "fnmr_at_fmr": {f"{t:g}": fnmr_at_fmr(curves["fmr"], curves["fnmr"], t, n_imp) for t in fmr_targets},
    }


def threshold_at_fmr(scores: np.ndarray, genuine: np.ndarray, target: float) -> float:
    """The decision threshold chosen on calibration pairs: the lowest score threshold whose FMR
    is ≤ ``target`` (accepting fewer impostors than that costs genuine pairs)."""
    c = error_curves(scores, genuine)
    return float(c["threshold"][np.flatnonzero(c["fmr"] <= target)[-1]])


def per_fold_metrics(scores: np.ndarray, genuine: np.ndarray, folds: np.ndarray,
                     fmr_targets: tuple[float, ...] = FMR_TARGETS) -> dict:
    """``verification_metrics`` per fold and pooled over all pairs."""
    folds = np.asarray(folds)
    out = {"pooled": verification_metrics(scores, genuine, fmr_targets), "folds": {}}
    for f in np.unique(folds):
        rows = folds == f
        out["folds"][str(f)] = verification_metrics(np.asarray(scores)[rows], np.asarray(genuine)[rows], fmr_targets)
    return out
