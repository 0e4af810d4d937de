"""Simulated observers: FaceSim3D format, determinism, and recoverable weights."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from facesimxai.config import validate_config
from facesimxai.data.face_params import PARAMETERS, sample_parameters
from facesimxai.data.judgments import FACESIM3D_COLUMNS, clean_trials, read_trial_file
from facesimxai.data.observers import fit_choice_model, simulate_trials


def _cfg(**overrides):
    cfg = validate_config({})["judgments"]["simulated"]
    cfg.update(overrides)
    return cfg


@pytest.fixture(scope="module")
def faces():
    return sample_parameters(24, np.random.default_rng(1))


def test_simulation_is_deterministic_and_in_facesim3d_format(faces):
    a, truth = simulate_trials(faces, _cfg(n_participants=3))
    b, _ = simulate_trials(faces, _cfg(n_participants=3))
    assert a.to_csv(index=False) == b.to_csv(index=False)
    assert list(a.columns) == list(FACESIM3D_COLUMNS)
    assert truth["simulated"] is True and set(truth["region_weights"]) >= {"left_eye", "mouth"}


def test_catch_semantics_follow_facesim3d(faces):
    """caught == True means the participant MISSED the catch (chose a duplicated face)."""
    trials, _ = simulate_trials(faces, _cfg(n_participants=10, catch_rate=0.3, miss_rate=0.3))
    catch = trials[trials["catch_head"] != 0]
    missed = catch[catch["caught"] == "True"]
    hit = catch[catch["caught"] == "False"]
    assert len(missed) > 0 and len(hit) > 0
    assert (missed["head_odd"] == missed["catch_head"]).all()
    assert (hit["head_odd"] != hit["catch_head"]).all()


def test_logit_recovers_ordering_of_observer_weights(faces, tmp_path):
    cfg = _cfg(n_participants=40, n_blocks=6, trials_per_block=30)
    raw, _ = simulate_trials(faces, cfg)
    raw.to_csv(tmp_path / "trials.csv", index=False)  # through the importer, as the pipeline does
    clean, _ = clean_trials(read_trial_file(tmp_path / "trials.csv"))
    coef = fit_choice_model(faces, clean)
    groups = pd.Series(coef.to_numpy()).groupby([p.group for p in PARAMETERS]).mean()
    truth = pd.Series(cfg["group_weights"])[groups.index]
    assert spearmanr(groups, truth).statistic == pytest.approx(1.0)
    assert spearmanr(coef, [cfg["group_weights"][p.group] for p in PARAMETERS]).statistic > 0.9
