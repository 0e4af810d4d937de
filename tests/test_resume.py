"""Resume state of training loops: used only when it belongs to the same settings and data."""

from __future__ import annotations

import logging

import numpy as np
import torch

from facesimxai.resume import EpochState, fingerprint, numpy_rng_state, set_numpy_rng_state


def test_state_round_trip_restores_torch_and_numpy_generators(tmp_path):
    fp = fingerprint({"lr": 0.1}, np.arange(5))
    torch.manual_seed(3)
    rng = np.random.default_rng(4)
    rng.random(3)
    EpochState(tmp_path / "w.pt", fp).save(2, history=[1.0, 0.5], numpy_rng=numpy_rng_state(rng))
    want_torch, want_np = torch.rand(3), rng.random(3)
    torch.manual_seed(99)
    state = EpochState(tmp_path / "w.pt", fp).load()
    other = np.random.default_rng(0)
    set_numpy_rng_state(other, state["numpy_rng"])
    assert state["epoch"] == 2 and state["history"] == [1.0, 0.5]
    assert torch.equal(torch.rand(3), want_torch) and np.array_equal(other.random(3), want_np)


def test_state_of_other_settings_or_data_is_ignored_and_removed(tmp_path, caplog):
    EpochState(tmp_path / "w.pt", fingerprint({"lr": 0.1}, np.arange(5))).save(1)
    assert fingerprint({"lr": 0.1}, np.arange(5)) != fingerprint({"lr": 0.1}, np.arange(6))
    with caplog.at_level(logging.WARNING):
        assert EpochState(tmp_path / "w.pt", fingerprint({"lr": 0.2}, np.arange(5))).load() is None
    assert "saved for other settings or data" in caplog.text
    assert not (tmp_path / "w.pt.resume").exists()


def test_unreadable_state_means_starting_again(tmp_path, caplog):
    (tmp_path / "w.pt.resume").write_bytes(b"\x80\x02garbage")
    with caplog.at_level(logging.WARNING):
        assert EpochState(tmp_path / "w.pt", "x").load() is None
    assert "ignoring unreadable resume state" in caplog.text and not (tmp_path / "w.pt.resume").exists()
