"""Probe, generalisation and interventional Shapley on toy models with known answers, and the
learning test with its negative control (a head trained on shuffled labels must fail it)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from facesimxai.config import validate_config
from facesimxai.data.face_params import GROUPS, PARAMETERS, sample_parameters
from facesimxai.data.observers import distance_scale, parameter_weights, simulate_trials
from facesimxai.data.triplets import add_triplet_columns, random_split
from facesimxai.models.generalisation import mean_observer_odd, split_accuracies
from facesimxai.models.probe import group_r2, parameter_r2
from facesimxai.models.train import load_head, predict, train_head
from facesimxai.models.triplet import DistanceHead
from facesimxai.regions.interventional import (
    compare,
    head_game,
    masked_parameters,
    observer_game,
    sample_triplets,
)
from facesimxai.shapley import coalition_masks, exact_shapley

OBSERVERS = validate_config({})["judgments"]["simulated"]
GROUP_OF = np.array([GROUPS.index(p.group) for p in PARAMETERS])


def test_exact_shapley_matches_the_permutation_definition_and_is_efficient():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(3, 2**5))
    phi = exact_shapley(values)
    ref = np.zeros((3, 5))
    perms = list(itertools.permutations(range(5)))
    for perm in perms:
        m = 0
        for g in perm:
            ref[:, g] += values[:, m | (1 << g)] - values[:, m]
            m |= 1 << g
    np.testing.assert_allclose(phi, ref / len(perms), atol=1e-12)
    np.testing.assert_allclose(phi.sum(1), values[:, -1] - values[:, 0], atol=1e-12)


def test_a_player_the_game_ignores_gets_zero():
    masks = coalition_masks(4)
    values = masks[:, :3] @ np.array([1.0, -2.0, 0.5]) + masks[:, 0] * masks[:, 1]  # player 3 never counts
    phi = exact_shapley(values)
    assert abs(phi[3]) < 1e-12 and phi[0] == pytest.approx(1.5) and phi[1] == pytest.approx(-1.5)


def test_probe_finds_only_the_group_the_core_encodes():
    rng = np.random.default_rng(1)
    params = sample_parameters(200, rng)
    eyes = params[:, GROUP_OF == GROUPS.index("eyes")]
    core = np.tanh(eyes @ rng.normal(size=(eyes.shape[1], 40))) + 0.01 * rng.normal(size=(200, 40))
    r2 = group_r2(parameter_r2(core, params, n_folds=5, seed=0))
    assert r2["eyes"] > 0.8
    assert all(abs(r2[g]) < 0.1 for g in GROUPS if g != "eyes"), r2


def _observer_head(scale: float, temperature: float, ignore: str | None = None) -> DistanceHead:
    """A distance head on parameter 'features' that computes the mean observer's utilities exactly
    (bridge = diag √w, kept linear by a large bias; log-scale = −log(scale·T)); ``ignore`` zeroes a group."""
    w = parameter_weights(OBSERVERS["group_weights"])
    if ignore:
        w = w * (GROUP_OF != GROUPS.index(ignore))
    head = DistanceHead(len(w), len(w), dropout=0.0)
    with torch.no_grad():
        head.bridge.linear.weight.copy_(torch.diag(torch.from_numpy(np.sqrt(w))).float())
        head.bridge.linear.bias.fill_(10.0)
        head.log_scale.fill_(-float(np.log(scale * temperature)))
    return head.eval()


def test_interventional_shapley_recovers_a_model_that_is_the_observer_and_zeroes_an_ignored_group():
    params = sample_parameters(8, np.random.default_rng(2))
    feats = masked_parameters(params)  # a perfect core: features = the rendered parameters
    trials = sample_triplets(8, 40, seed=0)
    scale = distance_scale(params, parameter_weights(OBSERVERS["group_weights"]))
    values, target = head_game(_observer_head(scale, OBSERVERS["temperature"]), feats, trials)
    obs = observer_game(feats, trials, target, OBSERVERS["group_weights"], OBSERVERS["temperature"], scale)
    np.testing.assert_allclose(values, obs, atol=1e-3)
    phi, ref = exact_shapley(values), exact_shapley(obs)
    assert compare(phi, ref)["within_trial_rho"] > 0.99
    np.testing.assert_allclose(phi.sum(1), values[:, -1] - values[:, 0], atol=1e-9)
    blind, _ = head_game(_observer_head(scale, OBSERVERS["temperature"], ignore="eyes"), feats, trials)
    assert np.abs(exact_shapley(blind)[:, GROUPS.index("eyes")]).max() < 1e-6


def test_split_accuracies_separate_seen_from_unseen_triplets():
    trials = pd.DataFrame({"triplet_index": [1, 1, 2, 3, 3], "split": ["train", "test", "test", "train", "test"],
                           "head1": [1, 1, 2, 3, 3], "head2": [2, 2, 3, 4, 4], "head3": [5, 5, 6, 7, 7]})
    pred, target = np.array([0, 0, 1, 2, 1]), np.array([0, 0, 2, 2, 2])
    out = split_accuracies(trials, pred, target, held_out_faces=[6])
    assert out["seen_triplet_accuracy"] == 0.5 and out["n_test_seen_triplet"] == 2
    assert out["unseen_triplet_accuracy"] == 0.0 and out["held_out_face_accuracy"] == 0.0


def test_mean_observer_picks_the_face_outside_the_closest_pair():
    params = np.zeros((3, len(PARAMETERS)))
    params[2, GROUP_OF == GROUPS.index("eyes")] = 1.0  # face 3 differs in the eyes only
    assert mean_observer_odd(params, np.array([[3, 1, 2], [1, 3, 2]]), OBSERVERS["group_weights"]).tolist() == [0, 1]


def _learning_data(tmp_path, shuffle: bool):
    """Observers' choices on 40 faces whose 'core features' are their parameters (a perfect core)."""
    params = sample_parameters(40, np.random.default_rng(3))
    trials, _ = simulate_trials(params, {**OBSERVERS, "n_participants": 20, "n_blocks": 4, "trials_per_block": 30})
    trials = trials[(trials["catch_head"] == 0) & (trials["head_odd"] > 0)].reset_index(drop=True)
    trials = add_triplet_columns(trials)
    if shuffle:
        trials["odd_pos"] = np.random.default_rng(4).permutation(trials["odd_pos"].to_numpy())
    trials["split"] = random_split(len(trials), {"train": 0.8, "val": 0.2, "test": 0.0}, 0).astype(str)
    trials.to_parquet(tmp_path / "trials.parquet")
    xr.Dataset({"core": (("face", "unit"), params.astype(np.float32))},
               coords={"face_id": ("face", np.arange(1, 41))},
               attrs={"last_core_layer": "fc7-relu"}).to_zarr(tmp_path / "features.zarr", consolidated=False)
    train = {"epochs": 60, "lr": 0.01, "batch_size": 64}
    cfg = validate_config({"models": {"bridge_width": 32, "dropout": 0.0, "train": train}})
    train_head(tmp_path / "features.zarr", tmp_path / "trials.parquet", None, "hum_distance", cfg["models"],
               "cpu", 1, tmp_path / "head.pt", tmp_path / "metrics.json")
    head, _ = load_head(tmp_path / "head.pt")
    unseen = sample_parameters(60, np.random.default_rng(5))
    heads = sample_triplets(60, 600, seed=1)
    pred = predict(head, torch.from_numpy(unseen[heads - 1]).float()).argmax(1).numpy()
    return float((pred == mean_observer_odd(unseen, heads, OBSERVERS["group_weights"])).mean())


def test_a_head_learns_the_observers_strategy_and_a_shuffled_label_control_does_not(tmp_path):
    """Learning test with its negative control: trained on the observers' choices, the distance head
    agrees with the mean observer on triplets of 60 unseen faces far above chance (1/3); the same
    training on shuffled choices does not. (Shuffled, it still beats chance: any distance over
    features that carry the parameters picks the observers' odd face more often than not, which
    is why generalisation.json reports the equal-weight feature distance as a floor.)"""
    (tmp_path / "real").mkdir()
    (tmp_path / "shuffled").mkdir()
    learned = _learning_data(tmp_path / "real", shuffle=False)
    control = _learning_data(tmp_path / "shuffled", shuffle=True)
    assert learned > 0.7, learned
    assert learned - control > 0.15, (learned, control)
