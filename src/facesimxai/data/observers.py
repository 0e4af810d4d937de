"""Simulated observers: odd-one-out choices from a weighted distance over face parameters.

Participant p judges faces by ``d_p(i, j)² = Σ_k w_pk (x_ik - x_jk)² / scale``, where the
weights are the configured group weights (eyes, mouth, …) jittered per participant and
``scale`` is the mean squared distance under the mean weights (so the temperature is unit-free).
In a triplet the pair judged most similar leaves the odd face: ``P(odd = i) ∝ exp(-d(j, k)² / T)``.

The output is a trial file in FaceSim3D's 21 columns, as its main study writes them (so the same
importer and cleaning run on it)
and a ground-truth JSON beside it with the weights and the expected agreement between observers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from facesimxai.data.face_params import GROUPS, PARAMETER_NAMES, PARAMETERS, region_weights
from facesimxai.data.judgments import FACESIM3D_COLUMNS
from facesimxai.data.triplets import n_triplets, rank_triplets, unrank_triplets
from facesimxai.io import write_csv, write_json

log = logging.getLogger(__name__)

_POSITIONS = ("left", "middle", "right")
BREAK_SECONDS = 30.0  # FaceSim3D records a break after each block (its ``break_time`` column)


def parameter_weights(group_weights: dict[str, float]) -> np.ndarray:
    missing = [g for g in GROUPS if g not in group_weights]
    if missing:
        raise KeyError(f"observer group weights missing for: {', '.join(missing)}")
    return np.array([group_weights[p.group] for p in PARAMETERS], float)


def pair_features(params: np.ndarray, triplets: np.ndarray) -> np.ndarray:
    """Squared parameter differences of the pair left when each position is the odd one.

    ``triplets`` holds 1-based face ids in display order, shape (m, 3); the result has shape
    (m, 3, n_parameters): entry [t, i] belongs to the pair of the two faces other than i.
    """
    x = params[triplets - 1]
    others = ((1, 2), (0, 2), (0, 1))
    return np.stack([(x[:, j] - x[:, k]) ** 2 for j, k in others], axis=1)


def distance_scale(params: np.ndarray, weights: np.ndarray) -> float:
    diff2 = (params[:, None, :] - params[None, :, :]) ** 2
    n = len(params)
    iu = np.triu_indices(n, 1)
    return float((diff2[iu] @ weights).mean())


def simulate_trials(params: np.ndarray, cfg: dict) -> tuple[pd.DataFrame, dict]:
    """FaceSim3D-style trial table of simulated participants plus the ground truth."""
    rng = np.random.default_rng(cfg["seed"])
    n_faces = len(params)
    w_mean = parameter_weights(cfg["group_weights"])
    scale = distance_scale(params, w_mean)
    n_trials = cfg["n_blocks"] * cfg["trials_per_block"]
    total = n_triplets(n_faces)
    start = datetime(2026, 1, 5, 9, 0, 0)
    rows, participant_weights, agree = [], [], []
    for p in range(cfg["n_participants"]):
        ppid = f"sim{p + 1:03d}"
        dataname = f"{ppid}_{cfg['session']}_simulated"
        w = w_mean * np.exp(rng.normal(0, cfg["weight_jitter"], len(w_mean)))
        participant_weights.append(w)
        careless = rng.random() < cfg["careless_rate"]
        miss_rate = 0.5 if careless else cfg["miss_rate"]
        ranks = rng.choice(total, size=n_trials, replace=n_trials > total)
        shown = unrank_triplets(ranks, n_faces)
        shown = np.take_along_axis(shown, rng.permuted(np.tile([0, 1, 2], (n_trials, 1)), axis=1), 1)
        utility = -(pair_features(params, shown) @ w) / scale / cfg["temperature"]
        prob = np.exp(utility - utility.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        choice = (rng.random(n_trials)[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
        mean_choice = (pair_features(params, shown) @ w_mean).argmin(axis=1)
        is_catch = rng.random(n_trials) < cfg["catch_rate"]
        is_timeout = (rng.random(n_trials) < cfg["timeout_rate"]) & ~is_catch
        is_unfinished = rng.random(n_trials) < cfg["empty_caught_rate"]
        missed = rng.random(n_trials) < miss_rate
        clock = session_start = start + timedelta(days=p)
        for t in range(n_trials):
            heads = shown[t].copy()
            catch_head, caught, odd_pos = 0, "False", int(choice[t])
            if is_catch[t]:
                heads[1] = heads[0]  # show one face twice; the third is the true odd one
                heads = heads[rng.permutation(3)]
                catch_head = int(shown[t, 0])
                odd_pos = int(np.flatnonzero(heads != catch_head)[0])
                if missed[t]:
                    odd_pos = int(np.flatnonzero(heads == catch_head)[0])
                caught = "True" if missed[t] else "False"
            elif not is_timeout[t]:
                agree.append(choice[t] == mean_choice[t])
            if is_unfinished[t]:
                caught = ""
            rt = 10.0 if is_timeout[t] else float(np.round(rng.lognormal(0.9, 0.35), 3))
            sorted_heads = sorted(int(h) for h in heads)
            begin = (clock - session_start).total_seconds()
            block_end = (t + 1) % cfg["trials_per_block"] == 0
            rows.append({
                "ppid": ppid, "trial_num": t + 1,
                "block_num": t // cfg["trials_per_block"] + 1,
                "trial_num_in_block": t % cfg["trials_per_block"] + 1,
                "break_time": BREAK_SECONDS if block_end else np.nan,
                "start_time": round(begin, 3), "end_time": round(begin + rt, 3),
                "response_time": rt,
                "triplet_id": 0 if is_catch[t] else int(rank_triplets(*heads)) + 1,
                "correct": "False" if is_timeout[t] else "True",
                "head1": int(heads[0]), "head2": int(heads[1]), "head3": int(heads[2]),
                "head_odd": 0 if is_timeout[t] else int(heads[odd_pos]),
                "catch_head": catch_head, "caught": caught,
                "triplet": "_".join(map(str, sorted_heads)), "session_num": cfg["session"],
                "keyPress": "" if is_timeout[t] else _POSITIONS[odd_pos],
                "SystemDateTime_BeginTrial": clock.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                "ppid_session_dataname": dataname,
            })
            clock += timedelta(seconds=rt + 1.5 + (BREAK_SECONDS if block_end else 0.0))
    trials = pd.DataFrame(rows, columns=list(FACESIM3D_COLUMNS))
    truth = {
        "simulated": True,
        "note": "Simulated observers, not human data (facesimxai.data.observers).",
        "temperature": cfg["temperature"],
        "distance_scale": scale,
        "group_weights": dict(cfg["group_weights"]),
        "parameter_weights": dict(zip(PARAMETER_NAMES, w_mean.tolist(), strict=True)),
        "region_weights": region_weights(cfg["group_weights"]).to_dict(),
        "participant_weights": {f"sim{p + 1:03d}": dict(zip(PARAMETER_NAMES, w.tolist(), strict=True))
                                for p, w in enumerate(participant_weights)},
        "agreement_with_mean_observer": float(np.mean(agree)),
    }
    return trials, truth


def simulate_judgments(manifest: Path | str, cfg: dict, trials_out: Path | str,
                       truth_out: Path | str) -> pd.DataFrame:
    """Simulate observers on the synthetic faces of ``manifest`` (needs their parameters)."""
    faces = pd.read_parquet(manifest)
    cols = [f"p_{n}" for n in PARAMETER_NAMES]
    if not set(cols) <= set(faces.columns):
        raise ValueError(f"{manifest}: faces have no generating parameters; simulated judgments "
                         "need synthetic faces (config faces.source: synthetic)")
    params = faces.sort_values("face_id")[cols].to_numpy()
    trials, truth = simulate_trials(params, cfg)
    write_json(truth, truth_out)
    write_csv(trials, trials_out)
    log.info("simulated %d trials of %d participants; agreement with mean observer %.3f",
             len(trials), cfg["n_participants"], truth["agreement_with_mean_observer"])
    return trials


def fit_choice_model(params: np.ndarray, trials: pd.DataFrame) -> pd.Series:
    """Fit a conditional logit of the odd choice on pair parameter differences.

    scikit-learn has no conditional (alternative-specific) logit, so we minimise its negative
    log-likelihood directly. The coefficients estimate ``w_k / (scale · T)``: their ordering is
    the ordering of the observers' weights.
    """
    heads = trials[["head1", "head2", "head3"]].to_numpy()
    odd = trials["head_odd"].to_numpy()
    y = (heads == odd[:, None]).argmax(axis=1)
    x = -pair_features(params, heads)

    def nll(beta):
        u = x @ beta
        u -= u.max(axis=1, keepdims=True)
        logp = u - np.log(np.exp(u).sum(axis=1, keepdims=True))
        p = np.exp(logp)
        grad = -(x[np.arange(len(y)), y] - (p[..., None] * x).sum(axis=1)).sum(axis=0)
        return -logp[np.arange(len(y)), y].sum(), grad

    res = minimize(nll, np.zeros(x.shape[2]), jac=True, method="L-BFGS-B")
    return pd.Series(res.x, index=list(PARAMETER_NAMES), name="coefficient")
