"""Paired comparisons per region: models against each other, and explainers against each other.

The thesis compared VGG-Hum with VGG-MaxP by a Wilcoxon test per region without correcting for
the 12 tests. Here every comparison is a Wilcoxon signed-rank test paired by face (the thesis's
unit; ``unit: trial`` pairs the maps of the same trial instead), Holm-corrected across regions,
with the matched-pairs rank-biserial correlation as effect size and a bootstrap 95% CI of the
median paired difference.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import bootstrap, rankdata, wilcoxon
from statsmodels.stats.multitest import multipletests

from facesimxai.io import write_parquet

log = logging.getLogger(__name__)


def rank_biserial(a: np.ndarray, b: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation: (T+ − T−) / (T+ + T−) over non-zero differences.

    scipy reports the signed-rank statistic but not this effect size; it is in [-1, 1] and positive
    when ``a`` tends to exceed ``b``.
    """
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[d != 0]
    if len(d) == 0:
        return 0.0
    ranks = rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def paired_test(a: np.ndarray, b: np.ndarray, n_boot: int, seed: int) -> dict:
    """Wilcoxon signed-rank test, effect size and bootstrap CI for paired samples ``a`` and ``b``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    d = a - b
    row = {"n": len(d), "median_a": np.nan, "median_b": np.nan, "median_diff": np.nan,
           "ci_low": np.nan, "ci_high": np.nan, "statistic": np.nan, "p": np.nan, "effect_size": np.nan}
    if len(d) == 0:
        return row
    row.update(median_a=float(np.median(a)), median_b=float(np.median(b)), median_diff=float(np.median(d)),
               effect_size=rank_biserial(a, b))
    if np.all(d == 0) or len(d) < 2:
        row["p"] = 1.0  # no difference, or too few pairs: nothing to reject
        return row
    res = wilcoxon(a, b)
    row.update(statistic=float(res.statistic), p=float(res.pvalue))
    ci = bootstrap((d,), np.median, n_resamples=n_boot, method="percentile", rng=np.random.default_rng(seed))
    row.update(ci_low=float(ci.confidence_interval.low), ci_high=float(ci.confidence_interval.high))
    return row


def _paired_frame(table: pd.DataFrame, by: str, a: str, b: str, unit: str, metric: str) -> pd.DataFrame:
    wide = table[table[by].isin([a, b])].pivot_table(index=[unit, "region"], columns=by, values=metric,
                                                     observed=True, aggfunc="mean")
    return wide.dropna().reset_index()


def compare(table: pd.DataFrame, by: str, within: str, metric: str, unit: str, n_boot: int, seed: int,
            alpha: float) -> pd.DataFrame:
    """All pairwise comparisons of the levels of ``by`` (model or explainer) within each ``within`` level.

    Holm's correction runs over the regions of one comparison (the family the thesis tested).
    """
    rows = []
    for group, sub in table.groupby(within, observed=True):
        for a, b in itertools.combinations(sorted(sub[by].unique()), 2):
            wide = _paired_frame(sub, by, a, b, unit, metric)
            block = []
            for region, pairs in wide.groupby("region", observed=True, sort=False):
                test = paired_test(pairs[a].to_numpy(), pairs[b].to_numpy(), n_boot, seed)
                block.append({within: group, f"{by}_a": a, f"{by}_b": b, "region": str(region),
                              "metric": metric, "unit": unit, **test})
            if not block:
                continue
            p = np.array([r["p"] for r in block])
            adj = np.full_like(p, np.nan)
            finite = np.isfinite(p)
            if finite.any():
                adj[finite] = multipletests(p[finite], method="holm")[1]
            for r, q in zip(block, adj, strict=True):
                r["p_holm"] = float(q)
                r["significant"] = bool(q < alpha) if np.isfinite(q) else False
            rows += block
    return pd.DataFrame(rows)


def run_region_stats(face_tables: list[Path | str], trial_tables: list[Path | str], cfg: dict,
                     models_out: Path | str, explainers_out: Path | str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare models (per explainer) and explainers (per model) region by region."""
    unit = {"face": "face_id", "trial": "trial_id"}[cfg["unit"]]
    paths = face_tables if cfg["unit"] == "face" else trial_tables
    table = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    args = dict(metric=cfg["metric"], unit=unit, n_boot=cfg["n_boot"], seed=cfg["seed"], alpha=cfg["alpha"])
    models = compare(table, by="model", within="explainer", **args)
    explainers = compare(table, by="explainer", within="model", **args)
    write_parquet(models, models_out, csv=True)
    write_parquet(explainers, explainers_out, csv=True)
    for name, df in (("models", models), ("explainers", explainers)):
        if len(df):
            log.info("%s: %d comparisons, %d significant after Holm", name, len(df), int(df["significant"].sum()))
    return models, explainers
