"""Backbone pretraining, cached features, MaxP targets and head training on tiny generated data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from facesimxai.config import validate_config
from facesimxai.data.faces import load_faces, render_pretrain_set, render_synthetic_faces
from facesimxai.data.triplets import add_triplet_columns, random_split
from facesimxai.io import open_zarr
from facesimxai.models.backbone import attribute_parameter_weights, build_backbone
from facesimxai.models.features import compute_core_features, compute_maxp_targets, maxp_odd
from facesimxai.models.train import load_triplet_model, train_head
from facesimxai.models.vgg import preprocess


def _cfg():
    cfg = validate_config({
        "pretrain": {"n_identities": 4, "renders_per_identity": 3, "seed": 2},
        "backbone": {"width": 1 / 32, "input_size": 32, "pretrain": {"epochs": 2, "batch_size": 4}},
        "models": {"bridge_width": 12, "train": {"epochs": 3}},
    })
    return cfg


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    cfg = _cfg()
    render_pretrain_set(cfg["pretrain"], 64, d / "renders.zarr")
    render_synthetic_faces(6, 1, 64, d / "faces" / "images", d / "faces" / "manifest.parquet",
                           d / "faces" / "regions.csv")
    rng = np.random.default_rng(0)
    heads = np.array([rng.choice(np.arange(1, 7), 3, replace=False) for _ in range(90)])
    trials = add_triplet_columns(pd.DataFrame({
        "head1": heads[:, 0], "head2": heads[:, 1], "head3": heads[:, 2],
        "head_odd": heads[np.arange(90), rng.integers(0, 3, 90)]}))
    trials["split"] = random_split(len(trials), cfg["splits"]["fractions"], 0).astype(str)
    trials.to_parquet(d / "trials.parquet")
    for run in ("a", "b"):
        build_backbone(d / "renders.zarr", cfg["backbone"], "cpu", 1, d / f"backbone_{run}.pt",
                       d / f"backbone_{run}.json")
    compute_core_features(d / "backbone_a.pt", d / "faces" / "manifest.parquet", "fc7-relu", "cpu",
                          d / "features.zarr")
    compute_maxp_targets(d / "features.zarr", d / "trials.parquet", d / "maxp.parquet")
    for run in ("a", "b"):
        for model in ("hum", "maxp"):
            train_head(d / "features.zarr", d / "trials.parquet", d / "maxp.parquet", model,
                       cfg["models"], "cpu", 1, d / f"{model}_{run}.pt", d / f"{model}_{run}.json")
    return d


def test_pretraining_reports_validation_accuracy(built):
    m = json.loads((built / "backbone_a.json").read_text())
    assert m["n_identities"] == 4 and m["n_val_renders"] == 4 and m["n_train_renders"] == 8
    assert 0 <= m["best_val_accuracy"] <= 1 and len(m["history"]) == 2


def test_same_config_gives_bit_identical_weights(built):
    for name in ("backbone", "hum", "maxp"):
        a = torch.load(built / f"{name}_a.pt", weights_only=True)["state_dict"]
        b = torch.load(built / f"{name}_b.pt", weights_only=True)["state_dict"]
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_full_pixel_model_equals_frozen_core_on_cached_features(built):
    model, mode = load_triplet_model(built / "backbone_a.pt", built / "hum_a.pt")
    _, images = load_faces(built / "faces" / "manifest.parquet")
    x = preprocess(images, 32, mode)
    feats = torch.from_numpy(open_zarr(built / "features.zarr")["core"].to_numpy())
    heads = torch.tensor([[1, 2, 3], [6, 4, 2], [5, 1, 6]]) - 1
    with torch.no_grad():
        pixel = model(x[heads])
        cached = model.head(feats[heads])
    torch.testing.assert_close(pixel, cached, rtol=1e-5, atol=1e-5)


def test_head_metrics_are_complete(built):
    m = json.loads((built / "maxp_a.json").read_text())
    assert m["n"] == {"train": 63, "val": 14, "test": 13}
    assert m["chance"] == pytest.approx(1 / 3) and 1 <= m["best_epoch"] <= 3
    assert {"train_accuracy", "val_accuracy", "test_accuracy", "test_accuracy_vs_recorded_choice",
            "seconds", "seed"} <= set(m)


def test_maxp_rules_on_hand_made_features():
    # Faces 1 and 2 point the same way, face 3 is orthogonal: face 3 is odd under both rules.
    feats = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    heads = np.array([[1, 2, 3], [3, 1, 2], [2, 3, 1]])
    for rule in ("relative", "centroid"):
        assert maxp_odd(feats, heads, rule).tolist() == [2, 0, 1]
    with pytest.raises(ValueError, match="models.maxp_rule"):
        maxp_odd(feats, heads, "nearest")


def test_attribute_parameter_weights_are_relative_and_refuse_unknown_parameters():
    names = ["eye_size", "lip_thickness", "skin_tone"]
    assert torch.equal(attribute_parameter_weights({}, names), torch.ones(3))
    w = attribute_parameter_weights({"lip_thickness": 4.0}, names)
    assert torch.allclose(w, torch.tensor([0.5, 2.0, 0.5])) and abs(float(w.mean()) - 1) < 1e-6
    with pytest.raises(ValueError, match="attribute_parameter_weights: lips"):
        attribute_parameter_weights({"lips": 2.0}, names)
    with pytest.raises(ValueError, match="at least one weight"):
        attribute_parameter_weights(dict.fromkeys(names, 0.0), names)


def test_attribute_parameter_weights_change_pretraining_and_only_their_ratios_count(built, tmp_path):
    """Equal weights (any scale) train the same backbone as none; weighting one parameter trains another."""
    from facesimxai.data.face_params import PARAMETER_NAMES

    def state(weights: dict) -> dict:
        cfg = _cfg()["backbone"]
        cfg["pretrain"].update(attribute_weight=1.0, attribute_parameter_weights=weights)
        name = f"bb_{len(list(tmp_path.iterdir()))}"
        build_backbone(built / "renders.zarr", cfg, "cpu", 1, tmp_path / f"{name}.pt", tmp_path / f"{name}.json")
        return torch.load(tmp_path / f"{name}.pt", weights_only=True)["state_dict"]

    plain, equal = state({}), state(dict.fromkeys(PARAMETER_NAMES, 2.0))
    lip = state({"lip_thickness": 3.0})
    assert all(torch.equal(plain[k], equal[k]) for k in plain)
    assert not all(torch.equal(plain[k], lip[k]) for k in plain)
