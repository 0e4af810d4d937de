"""Do the explanations recover what is known to drive the decisions? (synthetic face space only)

References, each a set of per-parameter weights turned into region weights (a parameter's weight
shared equally among the regions it changes; ``face_params.region_weights_from_parameters``):

- ``observers``: the simulated observers' true weights (what VGG-Hum was trained to imitate);
- ``backbone``: weights implied by the backbone-similarity (MaxP) targets, fitted with the
  conditional logit that recovers the observers' weights from their choices (what VGG-MaxP was
  trained to imitate);
- ``behaviour``: weights implied by the model's own predictions on the explained trials (same
  fit). **Correlational**: it says which parameters co-vary with the model's choices on faces it
  may have memorised, not what the model computes; a model at chance on unseen faces can score
  ρ 0.8–0.95 here. What the model computes is the interventional truth
  (``regions/interventional.py``: exact Shapley values from re-rendered faces), and whether it
  learned at all is ``models/generalisation.json``.

Two recovery tests per model × explainer × reference:

- aggregate: the model's region importance (mean over target-position maps of a region metric,
  default ``abs_share``, the region's share of the map's total |R|) against the region weights —
  Spearman ρ with a one-sided permutation p-value (permuting regions), top-k overlap, and the
  fraction of (above-median, below-median) weight pairs ordered correctly (0.5 = chance);
- per trial: in each trial the reference says how much each region argues for the target face
  being the odd one (``trial_evidence``); the mean over regions of the Spearman ρ, across trials,
  between that evidence and the region's signed ``share`` of the map. This asks whether a map
  explains *its* decision, not the model's average habits.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import permutation_test, spearmanr

from facesimxai.artifacts.gates import gate_warnings
from facesimxai.artifacts.region_tables import target_rows, trials_of
from facesimxai.data.face_params import PARAMETER_NAMES, PARAMETERS, region_weights_from_parameters
from facesimxai.data.observers import fit_choice_model, pair_features
from facesimxai.io import write_json
from facesimxai.regions.figures import plot_ground_truth
from facesimxai.vocabulary import REGIONS

log = logging.getLogger(__name__)


def face_parameters(manifest: Path | str) -> np.ndarray:
    faces = pd.read_parquet(manifest).sort_values("face_id")
    missing = [f"p_{n}" for n in PARAMETER_NAMES if f"p_{n}" not in faces.columns]
    if missing:
        raise ValueError(f"{manifest}: ground truth needs synthetic faces with parameters; missing {missing[:3]}")
    return faces[[f"p_{n}" for n in PARAMETER_NAMES]].to_numpy()


def fitted_weights(params: np.ndarray, heads: np.ndarray, odd_pos: np.ndarray) -> pd.Series:
    """Per-parameter weights implied by odd-one-out choices (conditional logit)."""
    choices = pd.DataFrame(heads, columns=["head1", "head2", "head3"])
    choices["head_odd"] = heads[np.arange(len(heads)), odd_pos]
    return fit_choice_model(params, choices)


def region_share_matrix() -> np.ndarray:
    """(n_parameters, 12): how each parameter's weight is shared among the thesis regions."""
    share = np.zeros((len(PARAMETERS), len(REGIONS)))
    for k, p in enumerate(PARAMETERS):
        inside = [r for r in p.regions if r in REGIONS]
        for r in inside:
            share[k, REGIONS.index(r)] = 1 / len(inside)
    return share


def trial_evidence(params: np.ndarray, heads: np.ndarray, target_pos: np.ndarray,
                   weights: pd.Series) -> np.ndarray:
    """(trials, 12) evidence per region that the target face is the odd one.

    Under the choice model, position i's utility is −Σ_k w_k D_k(pair without i); the target's
    advantage over the mean of the other two positions splits into per-parameter terms
    w_k (½ Σ_{j≠i} D_k(pair without j) − D_k(pair without i)), shared among regions as above.
    """
    d = pair_features(params, heads)  # (m, 3, K): pair without position i
    m = np.arange(len(heads))
    own = d[m, target_pos]
    contrib = weights.reindex(list(PARAMETER_NAMES)).to_numpy() * (0.5 * (d.sum(axis=1) - own) - own)
    return contrib @ region_share_matrix()


def importance(trial_table: pd.DataFrame, metric: str) -> pd.Series:
    """Mean of ``metric`` per region over target-position maps."""
    return target_rows(trial_table).groupby("region", observed=True)[metric].mean()


def recovery(model_importance: pd.Series, reference: pd.Series, top_k: int, n_permutations: int,
             seed: int) -> dict:
    """Spearman ρ (one-sided permutation p), top-k overlap and high-vs-low order accuracy."""
    regions = list(reference.index)
    x = reference.to_numpy(float)
    y = model_importance.reindex(regions).to_numpy(float)
    rho = float(spearmanr(x, y).statistic)
    perm = permutation_test((x, y), lambda a, b: spearmanr(a, b).statistic, permutation_type="pairings",
                            n_resamples=n_permutations, alternative="greater", rng=np.random.default_rng(seed))
    top_ref = list(reference.sort_values(ascending=False).index[:top_k])
    top_model = list(model_importance.reindex(regions).sort_values(ascending=False).index[:top_k])
    med = np.median(x)
    high, low = [i for i in range(len(x)) if x[i] > med], [i for i in range(len(x)) if x[i] < med]
    pairs = list(itertools.product(high, low))
    order = float(np.mean([y[h] > y[lo] for h, lo in pairs])) if pairs else float("nan")
    return {"spearman_rho": rho, "p_permutation": float(perm.pvalue), "n_permutations": n_permutations,
            "top_k": top_k, "top_reference": top_ref, "top_model": top_model,
            "top_k_overlap": len(set(top_ref) & set(top_model)) / top_k,
            "high_above_low": order, "high_regions": [regions[i] for i in high],
            "low_regions": [regions[i] for i in low]}


def trial_recovery(table: pd.DataFrame, evidence: np.ndarray) -> float:
    """Mean over regions of Spearman ρ across trials between evidence and the region's signed share."""
    shares = target_rows(table).pivot(index="trial_id", columns="region", values="share")[list(REGIONS)].to_numpy()
    rhos = [spearmanr(shares[:, r], evidence[:, r], nan_policy="omit").statistic for r in range(len(REGIONS))]
    return float(np.nanmean(rhos))


def ground_truth_recovery(trial_tables: list[Path | str], observers: Path | str, manifest: Path | str,
                          trials: Path | str, maxp_targets: Path | str, maxp_rule: str, cfg: dict,
                          out: Path | str, figure_out: Path | str, *, gates: dict | None = None,
                          explainers: dict[str, dict] | None = None) -> dict:
    """Recovery of the observers', the backbone's and the model's own weights by every model × explainer.

    ``gates``: paths ``probe``, ``generalisation``, ``interventional``, ``validity``; every failed
    gate of the model and explainer checks (for the ``explainers`` in use) becomes one plain
    sentence in ``warnings``, stated on the figure before any region result."""
    warnings = gate_warnings(**gates, explainers=explainers or {}) if gates else []
    params = face_parameters(manifest)
    truth = json.loads(Path(observers).read_text())
    all_trials = pd.read_parquet(trials).merge(pd.read_parquet(maxp_targets), on="trial_id", validate="1:1")
    heads_all = all_trials[["head1", "head2", "head3"]].to_numpy()
    param_refs = {
        "observers": pd.Series(truth["parameter_weights"]).reindex(list(PARAMETER_NAMES)),
        "backbone": fitted_weights(params, heads_all, all_trials[f"maxp_{maxp_rule}_pos"].to_numpy()),
    }
    indexed = all_trials.set_index("trial_id")
    rows, imp_out, by_metric, behaviour = [], {}, [], {}
    for path in trial_tables:
        table = pd.read_parquet(path)
        model, explainer = str(table["model"].iloc[0]), str(table["explainer"].iloc[0])
        tri = trials_of(table)
        heads = indexed.loc[tri["trial_id"], ["head1", "head2", "head3"]].to_numpy()
        if model not in behaviour:
            behaviour[model] = fitted_weights(params, heads, tri["pred_pos"].to_numpy().astype(int))
        refs = {**param_refs, "behaviour": behaviour[model]}
        imp = importance(table, cfg["metric"])
        imp_out.setdefault(model, {})[explainer] = imp.to_dict()
        for ref_name, pw in refs.items():
            ref = region_weights_from_parameters(pw.to_dict())
            rec = recovery(imp, ref, cfg["top_k"], cfg["n_permutations"], cfg["seed"])
            evidence = trial_evidence(params, heads, tri["target_pos"].to_numpy().astype(int), pw)
            rec["trial_rho"] = trial_recovery(table, evidence)
            rows.append({"model": model, "explainer": explainer, "reference": ref_name, **rec})
            log.info("%s/%s vs %s: rho=%.3f p=%.4f top-%d overlap %.2f high>low %.2f per-trial rho %.3f", model,
                     explainer, ref_name, rec["spearman_rho"], rec["p_permutation"], cfg["top_k"],
                     rec["top_k_overlap"], rec["high_above_low"], rec["trial_rho"])
            for metric in ("abs_share", "share", "mean", "sum", "pos_sum"):
                other = importance(table, metric).reindex(ref.index)
                by_metric.append({"model": model, "explainer": explainer, "reference": ref_name, "metric": metric,
                                  "spearman_rho": float(spearmanr(ref.to_numpy(), other.to_numpy()).statistic)})
    regions_obs = region_weights_from_parameters(param_refs["observers"].to_dict())
    behaviour_vs_observers = {
        m: {"parameter_rho": float(spearmanr(w.to_numpy(), param_refs["observers"].to_numpy()).statistic),
            "region_rho": float(spearmanr(region_weights_from_parameters(w.to_dict()).to_numpy(),
                                          regions_obs.to_numpy()).statistic)}
        for m, w in behaviour.items()}
    for m, r in behaviour_vs_observers.items():
        log.info("%s's choices weigh parameters like the observers: rho=%.3f (regions %.3f)", m,
                 r["parameter_rho"], r["region_rho"])
    for line in warnings:
        log.warning("%s", line)
    result = {
        "warnings": warnings,
        "metric": cfg["metric"], "maps": "target-position maps of the explained splits",
        "references": {k: region_weights_from_parameters(v.to_dict()).to_dict()
                       for k, v in param_refs.items()},
        "behaviour_references": {m: region_weights_from_parameters(w.to_dict()).to_dict()
                                 for m, w in behaviour.items()},
        "parameter_weights": {**{k: v.to_dict() for k, v in param_refs.items()},
                              **{f"behaviour_{m}": w.to_dict() for m, w in behaviour.items()}},
        "behaviour_vs_observers": behaviour_vs_observers,
        "behaviour_note": ("correlational: a conditional logit fitted to each model's own predictions on the "
                           "explained trials (faces it may have memorised); it is not what the model computes. "
                           "See regions/interventional.json (interventional) and models/generalisation.json."),
        "importance": imp_out, "recovery": rows, "rho_by_metric": by_metric,
    }
    write_json(result, out)
    plot_ground_truth(result, figure_out)
    return result
