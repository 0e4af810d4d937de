"""How the VLM compares with humans and the triplet models, each number with its chance level.

- Accuracy against the human choice for the VLM, VGG-Hum and VGG-MaxP on the same held-out
  trials (Wilson 95% intervals; chance 1/3), and Cohen's κ between every pair of raters.
- Order consistency: does the VLM pick the same face when the triplet is shown in another order
  (chance (1/3)^(orders−1)), and which presentation slot it picks (a position bias shows here).
- Region agreement: VLM regions against the LRP top-k regions of the same trial, as "any VLM
  region in the top k" and as the share of VLM regions in it, against two baselines: VLM region
  sets shuffled across trials (keeps the VLM's own region preferences) and uniformly random regions
  (the thesis reported 74% without its ~62% chance level). The same for heatmap reading, where
  the truth is the shown map's own top regions.
"""

from __future__ import annotations

import json
import logging
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import comb
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.proportion import proportion_confint

from facesimxai.artifacts.region_tables import ranked_shares, target_rows
from facesimxai.io import write_json, write_parquet
from facesimxai.vocabulary import REGIONS

log = logging.getLogger(__name__)
IDENTITY = "012"


def primary_answers(answers: pd.DataFrame) -> pd.DataFrame:
    """trial_id, vlm (odd position), vlm_face, vlm_regions from the identity-order answer."""
    ooo = answers[(answers["task"] == "odd_one_out") & (answers["order"] == IDENTITY) & answers["valid"]]
    return pd.DataFrame({"trial_id": ooo["trial_id"].astype(int).to_numpy(),
                         "vlm": ooo["odd_pos"].astype(int).to_numpy(),
                         "vlm_face": ooo["odd_face"].astype(int).to_numpy(),
                         "vlm_regions": [json.loads(r) for r in ooo["regions"]]})


def comparison_table(answers: pd.DataFrame, predictions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per asked trial: human, VLM (NA when its answer was invalid) and each model's choice."""
    trials = sorted(answers.loc[answers["task"] == "odd_one_out", "trial_id"].astype(int).unique())
    table = pd.DataFrame({"trial_id": trials})
    for name, pred in predictions.items():
        p = pred.set_index("trial_id")
        missing = sorted(set(trials) - set(p.index))
        if missing:
            raise ValueError(f"{name}: no prediction for {len(missing)} VLM trials (first: {missing[:5]}); "
                             "re-run the predictions rule")
        if "human" not in table:
            table["human"] = p.loc[trials, "human_odd"].astype(int).to_numpy()
            table["split"] = p.loc[trials, "split"].astype(str).to_numpy()
        table[name] = p.loc[trials, "pred_pos"].astype(int).to_numpy()
    table = table.merge(primary_answers(answers), on="trial_id", how="left")
    table["vlm"] = table["vlm"].astype("Int64")
    return table


def accuracy(table: pd.DataFrame, raters: list[str]) -> dict:
    """Accuracy against the human choice on trials where the VLM answered validly."""
    valid = table[table["vlm"].notna()]
    out = {}
    for r in raters:
        hits = int((valid[r].astype(int) == valid["human"]).sum())
        lo, hi = proportion_confint(hits, len(valid), method="wilson") if len(valid) else (np.nan, np.nan)
        out[r] = {"accuracy": hits / len(valid) if len(valid) else np.nan, "ci95": [lo, hi], "n": len(valid)}
    return out


def kappas(table: pd.DataFrame, raters: list[str]) -> dict:
    valid = table[table["vlm"].notna()]
    out = {}
    for a, b in combinations(raters, 2):
        x, y = valid[a].astype(int).to_numpy(), valid[b].astype(int).to_numpy()
        out[f"{a}|{b}"] = float(cohen_kappa_score(x, y, labels=[0, 1, 2])) if len(valid) > 1 else np.nan
    return out


def order_consistency(answers: pd.DataFrame) -> dict:
    """Share of trials (with ≥2 valid orders) whose valid answers all name the same face."""
    ooo = answers[(answers["task"] == "odd_one_out") & answers["valid"]]
    groups = [g["odd_face"].astype(int).to_numpy() for _, g in ooo.groupby("trial_id") if len(g) >= 2]
    same = [bool((g == g[0]).all()) for g in groups]
    chance = [(1 / 3) ** (len(g) - 1) for g in groups]
    slots = ooo["answer_slot"].astype(int).value_counts().reindex([1, 2, 3], fill_value=0)
    return {"consistent": float(np.mean(same)) if same else np.nan,
            "chance": float(np.mean(chance)) if chance else np.nan,
            "n_trials": len(groups), "slot_counts": {int(k): int(v) for k, v in slots.items()}}


def lrp_top(regions: pd.DataFrame, k: int) -> dict[int, tuple[int, list[str]]]:
    """trial_id → (explained face, its k regions with the largest positive share)."""
    out = {}
    for tid, shares in target_rows(regions).groupby("trial_id", sort=True):
        out[int(tid)] = (int(shares["face_id"].iloc[0]), [r for r, s in ranked_shares(shares) if s > 0][:k])
    return out


def agreement(vlm: list[list[str]], truth: list[list[str]], n_permutations: int, seed: int) -> dict:
    """Observed hit rate and overlap of VLM region sets with the truth sets, with baselines."""
    pairs = [(v, t) for v, t in zip(vlm, truth, strict=True) if v and t]
    if not pairs:
        return {"n": 0}
    v_sets, t_sets = [set(v) for v, _ in pairs], [set(t) for _, t in pairs]

    def scores(vs):
        hit = np.mean([bool(a & b) for a, b in zip(vs, t_sets, strict=True)])
        share = np.mean([len(a & b) / len(a) for a, b in zip(vs, t_sets, strict=True)])
        return hit, share

    hit, share = scores(v_sets)
    rng = np.random.default_rng(seed)
    null = np.array([scores([v_sets[i] for i in rng.permutation(len(v_sets))]) for _ in range(n_permutations)])
    n = len(REGIONS)
    uniform_hit = np.mean([1 - comb(n - len(t), len(v)) / comb(n, len(v)) for v, t in zip(v_sets, t_sets, strict=True)])
    uniform_share = np.mean([len(t) / n for t in t_sets])
    return {"n": len(pairs), "hit": float(hit), "share": float(share),
            "shuffled_hit": float(null[:, 0].mean()), "shuffled_hit_q95": float(np.quantile(null[:, 0], 0.95)),
            "p_hit": float((1 + (null[:, 0] >= hit).sum()) / (1 + n_permutations)),
            "shuffled_share": float(null[:, 1].mean()),
            "p_share": float((1 + (null[:, 1] >= share).sum()) / (1 + n_permutations)),
            "uniform_hit": float(uniform_hit), "uniform_share": float(uniform_share)}


def region_agreement(answers: pd.DataFrame, table: pd.DataFrame, tops: dict[str, dict[int, tuple[int, list[str]]]],
                     n_permutations: int, seed: int) -> dict:
    """Odd-one-out regions vs each model's LRP top-k (all trials, and those where the VLM picked
    the face the map explains), and heatmap reading vs the shown map's own top-k."""
    out = {}
    for model, top in tops.items():
        rows = table[table["vlm"].notna() & table["trial_id"].isin(top)]
        truth = [top[t] for t in rows["trial_id"]]
        vlm = list(rows["vlm_regions"])
        out[f"odd_one_out|{model}"] = agreement(vlm, [t for _, t in truth], n_permutations, seed)
        same = [i for i, (face, _) in enumerate(truth) if face == rows["vlm_face"].iloc[i]]
        out[f"odd_one_out_same_face|{model}"] = agreement([vlm[i] for i in same], [truth[i][1] for i in same],
                                                          n_permutations, seed)
        hm = answers[(answers["task"] == "heatmap") & (answers["model"] == model) & answers["valid"]]
        hm = hm[hm["trial_id"].isin(top)]
        out[f"heatmap|{model}"] = agreement([json.loads(r) for r in hm["regions"]],
                                            [top[int(t)][1] for t in hm["trial_id"]], n_permutations, seed)
    return out


def evaluate_vlm(answers: Path | str, predictions: dict[str, Path | str], region_tables: dict[str, Path | str],
                 out_summary: Path | str, out_table: Path | str, top_k: int = 3, n_permutations: int = 1000,
                 seed: int = 0) -> dict:
    ans = pd.read_parquet(answers)
    table = comparison_table(ans, {m: pd.read_parquet(p) for m, p in predictions.items()})
    raters = ["vlm", *predictions]
    tops = {m: lrp_top(pd.read_parquet(p), top_k) for m, p in region_tables.items()}
    summary = {
        "requests": len(ans), "valid": int(ans["valid"].sum()), "repaired": int(ans["repaired"].sum()),
        "invalid_reasons": ans.loc[~ans["valid"], "invalid_reason"].value_counts().head(10).to_dict(),
        "retried": int((ans["attempts"] > 1).sum()), "failed": int(ans["raw_text"].isna().sum()),
        "vlm_model": str(ans["vlm_model"].iloc[0]) if len(ans) else "",
        "backend": str(ans["backend"].iloc[0]) if len(ans) else "",
        "trials": len(table), "splits": sorted(table["split"].unique().tolist()),
        "chance_accuracy": 1 / 3, "accuracy_vs_human": accuracy(table, raters),
        "kappa": kappas(table, ["human", *raters]), "order": order_consistency(ans),
        "regions": region_agreement(ans, table, tops, n_permutations, seed), "top_k": top_k,
    }
    table = table.assign(vlm_regions=[json.dumps(r) if isinstance(r, list) else "[]" for r in table["vlm_regions"]])
    write_parquet(table, out_table, csv=True)
    write_json(summary, out_summary)
    acc = summary["accuracy_vs_human"]
    log.info("accuracy vs human on %d valid trials: %s (chance 0.333)", acc["vlm"]["n"],
             ", ".join(f"{r} {v['accuracy']:.3f}" for r, v in acc.items()))
    return summary
