"""Paired region statistics and ground-truth recovery on data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from facesimxai.data.face_params import PARAMETER_NAMES, region_weights_from_parameters
from facesimxai.regions.ground_truth import recovery, trial_evidence, trial_recovery
from facesimxai.regions.stats import compare, paired_test, rank_biserial
from facesimxai.vocabulary import REGIONS


def test_rank_biserial_known_values():
    assert rank_biserial([2, 3, 4], [1, 1, 1]) == 1.0
    assert rank_biserial([1, 1, 1], [2, 3, 4]) == -1.0
    # differences +1, −2, +3: ranks 1, 2, 3 → (1 + 3 − 2) / 6
    assert rank_biserial([1, 0, 3], [0, 2, 0]) == pytest.approx(2 / 6)
    assert rank_biserial([1, 2], [1, 2]) == 0.0


def test_paired_test_detects_a_shift_and_not_its_absence():
    rng = np.random.default_rng(0)
    a = rng.normal(size=40)
    shifted = paired_test(a + 0.5 + rng.normal(0, 0.1, 40), a, n_boot=500, seed=0)
    assert shifted["p"] < 1e-4 and shifted["effect_size"] > 0.9
    assert shifted["ci_low"] > 0 and shifted["ci_low"] < shifted["median_diff"] < shifted["ci_high"]
    same = paired_test(a, a, n_boot=500, seed=0)
    assert same["p"] == 1.0 and same["effect_size"] == 0.0
    noise = paired_test(a, rng.normal(size=40), n_boot=500, seed=0)
    assert noise["p"] > 0.01


def face_table(model: str, shift: dict[str, float], n_faces: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for face in range(1, n_faces + 1):
        for region in ("eyes", "mouth", "chin"):
            rows.append({"model": model, "explainer": "lrp", "face_id": face, "region": region,
                         "share": rng.normal(0, 0.05) + shift.get(region, 0.0) + face * 0.01})
    return pd.DataFrame(rows)


def test_compare_models_corrects_across_regions():
    table = pd.concat([face_table("hum", {"eyes": 0.3}, seed=1), face_table("maxp", {}, seed=2)])
    out = compare(table, by="model", within="explainer", metric="share", unit="face_id", n_boot=300, seed=0,
                  alpha=0.05).set_index("region")
    assert set(out.index) == {"eyes", "mouth", "chin"}
    assert out.loc["eyes", "significant"] and out.loc["eyes", "median_diff"] > 0.2
    assert (out["p_holm"] >= out["p"]).all()
    # Holm: the smallest p is multiplied by the number of regions
    assert out["p_holm"].min() == pytest.approx(min(1.0, out["p"].min() * 3))
    assert out.loc["eyes", "model_a"] == "hum" and out.loc["eyes", "n"] == 20


def test_recovery_perfect_reversed_and_top_k():
    ref = pd.Series({"a": 3.0, "b": 2.0, "c": 1.0, "d": 0.5, "e": 0.1, "f": 0.0})
    perfect = recovery(ref * 10, ref, top_k=2, n_permutations=500, seed=0)
    assert perfect["spearman_rho"] == pytest.approx(1.0) and perfect["p_permutation"] < 0.01
    assert perfect["top_k_overlap"] == 1.0 and perfect["high_above_low"] == 1.0
    reversed_ = recovery(-ref, ref, top_k=2, n_permutations=500, seed=0)
    assert reversed_["spearman_rho"] == pytest.approx(-1.0) and reversed_["p_permutation"] > 0.99
    assert reversed_["top_k_overlap"] == 0.0 and reversed_["high_above_low"] == 0.0


def test_trial_evidence_points_at_the_parameter_that_makes_the_target_odd():
    params = np.zeros((3, len(PARAMETER_NAMES)))
    k = PARAMETER_NAMES.index("mouth_width")
    params[0, k] = 1.0  # face 1 differs from faces 2 and 3 in mouth width only
    weights = pd.Series(1.0, index=list(PARAMETER_NAMES))
    heads = np.array([[1, 2, 3], [2, 1, 3]])
    ev = trial_evidence(params, heads, np.array([0, 0]), weights)
    mouth = REGIONS.index("mouth")
    assert ev[0, mouth] > 0 and ev[1, mouth] < 0  # face 1 is odd; face 2 is not
    assert np.count_nonzero(ev[0]) == 1


def test_trial_recovery_is_high_when_shares_follow_the_evidence():
    rng = np.random.default_rng(0)
    evidence = rng.normal(size=(50, len(REGIONS)))
    rows = [{"trial_id": t, "position": 0, "target_pos": 0, "region": r, "share": evidence[t, i] * 0.1}
            for t in range(50) for i, r in enumerate(REGIONS)]
    table = pd.DataFrame(rows)
    assert trial_recovery(table, evidence) == pytest.approx(1.0)
    assert abs(trial_recovery(table, rng.normal(size=evidence.shape))) < 0.2


def test_region_weights_share_parameters_among_their_regions():
    w = region_weights_from_parameters(dict.fromkeys(PARAMETER_NAMES, 0.0) | {"eye_spacing": 3.0})
    assert w["between_eyes"] == w["left_eye"] == w["right_eye"] == 1.0 and w.sum() == 3.0


def test_ground_truth_refuses_faces_without_parameters(tmp_path):
    from facesimxai.regions.ground_truth import face_parameters

    pd.DataFrame({"face_id": [1, 2], "file": ["a.png", "b.png"]}).to_parquet(tmp_path / "manifest.parquet")
    with pytest.raises(ValueError, match=r"manifest.parquet: ground truth needs synthetic faces"):
        face_parameters(tmp_path / "manifest.parquet")
