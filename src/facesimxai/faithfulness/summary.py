"""Faithfulness summary: each metric's mean over held-out trials with a bootstrap CI, the most
faithful explainer per model and metric (with a paired bootstrap CI of its lead over the
runner-up), and how well each explainer's region sums agree with region removal."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from facesimxai.bootstrap import mean_ci
from facesimxai.faithfulness import TECHNIQUES
from facesimxai.io import write_json, write_parquet

log = logging.getLogger(__name__)

# metric → True when higher is more faithful
METRICS = {"deletion_auc": False, "insertion_auc": True, "abpc": True, "morf_aopc": True, "lerf_aopc": False}


def metric_table(scores: pd.DataFrame, n_boot: int, seed: int) -> pd.DataFrame:
    rows = []
    for (model, explainer), g in scores.groupby(["model", "explainer"], sort=False):
        for metric, higher in METRICS.items():
            values = g[metric].to_numpy(float)
            n = int(np.isfinite(values).sum())  # mean_ci averages the finite scores only
            if n < len(values):
                log.warning("%s/%s: %d of %d trials have no finite %s; the mean is over the other %d",
                            model, explainer, len(values) - n, len(values), metric, n)
            mean, lo, hi = mean_ci(values, seed, n_boot)
            rows.append({"model": model, "explainer": explainer, "method": g["method"].iloc[0], "metric": metric,
                         "higher_is_better": higher, "mean": mean, "ci_low": lo, "ci_high": hi, "n": n})
    return pd.DataFrame(rows)


def best_explainers(scores: pd.DataFrame, table: pd.DataFrame, n_boot: int, seed: int) -> list[dict]:
    """Per model and metric: the best explainer and its paired lead over the runner-up."""
    out = []
    for (model, metric), g in table.groupby(["model", "metric"], sort=False):
        higher = bool(g["higher_is_better"].iloc[0])
        ranked = g.sort_values("mean", ascending=not higher)
        best, second = ranked.iloc[0], ranked.iloc[1] if len(ranked) > 1 else None
        row = {"model": model, "metric": metric, "best": best["explainer"], "mean": best["mean"],
               "ci": [best["ci_low"], best["ci_high"]], "ranking": ranked["explainer"].tolist()}
        if second is not None:
            s = scores[scores["model"] == model].pivot(index="trial_id", columns="explainer", values=metric)
            diff = (s[best["explainer"]] - s[second["explainer"]]).to_numpy() * (1 if higher else -1)
            mean, lo, hi = mean_ci(diff, seed, n_boot)
            row.update(runner_up=second["explainer"], lead=mean, lead_ci=[lo, hi], lead_excludes_zero=bool(lo > 0))
        out.append(row)
    return out


def region_agreement(regions: pd.DataFrame, n_boot: int, seed: int) -> pd.DataFrame:
    """Spearman ρ per trial between each explainer's region sums and each removal technique."""
    rows = []
    for model, g in regions.groupby("model", sort=False):
        wide = g.pivot_table(index=["trial_id", "region"], columns="source", values="importance", sort=False)
        explainers = [c for c in wide.columns if c not in TECHNIQUES]
        for explainer in explainers:
            for technique in TECHNIQUES:
                rho = [spearmanr(d[explainer], d[technique]).statistic for _, d in wide.groupby(level="trial_id")]
                rho = np.array([r for r in rho if np.isfinite(r)])
                if len(rho) == 0:
                    continue
                mean, lo, hi = mean_ci(rho, seed, n_boot)
                rows.append({"model": model, "explainer": explainer, "technique": technique, "rho": mean,
                             "ci_low": lo, "ci_high": hi, "n": len(rho)})
    return pd.DataFrame(rows)


def summarise_faithfulness(scores: list[str], regions: list[str], n_boot: int, seed: int, table_out: Path | str,
                           agreement_out: Path | str, summary_out: Path | str) -> dict:
    """The faithfulness_summary rule: metric table, region agreement and the best explainers."""
    sc = pd.concat([pd.read_parquet(p) for p in scores], ignore_index=True)
    rg = pd.concat([pd.read_parquet(p) for p in regions], ignore_index=True)
    table = metric_table(sc, n_boot, seed)
    agreement = region_agreement(rg, n_boot, seed)
    best = best_explainers(sc, table, n_boot, seed)
    write_parquet(table, table_out, csv=True)
    write_parquet(agreement, agreement_out, csv=True)
    summary = {"best": best, "n_trials": int(sc.groupby("model")["trial_id"].nunique().min()),
               "note": "deletion_auc and lerf_aopc: lower is more faithful; the others: higher"}
    write_json(summary, summary_out)
    for b in best:
        log.info("%s %s: best %s (%.3f, CI %.3f-%.3f)%s", b["model"], b["metric"], b["best"], b["mean"], *b["ci"],
                 f", lead over {b['runner_up']} CI {b['lead_ci'][0]:.3f}-{b['lead_ci'][1]:.3f}"
                 if "runner_up" in b else "")
    return summary
