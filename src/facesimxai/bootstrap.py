"""The one bootstrap interval of a mean that figures and summaries share."""

from __future__ import annotations

import numpy as np
from scipy.stats import bootstrap


def mean_ci(values: np.ndarray, seed: int, n_boot: int = 1000) -> tuple[float, float, float]:
    """Mean of the finite values and its percentile-bootstrap 95% interval (scipy.stats.bootstrap);
    a constant or single value gives a zero-width interval, no values give NaN."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) < 2 or np.all(v == v[0]):
        m = float(v.mean()) if len(v) else np.nan
        return m, m, m
    ci = bootstrap((v,), np.mean, n_resamples=n_boot, confidence_level=0.95, method="percentile",
                   rng=np.random.default_rng(seed))
    return float(v.mean()), float(ci.confidence_interval.low), float(ci.confidence_interval.high)
