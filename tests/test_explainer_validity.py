"""Region Shapley, triplet integrated gradients, the renderer truth and the sanity checks on toy
models with known answers."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

from facesimxai.explain.integrated import IGSettings, triplet_integrated_gradients
from facesimxai.explain.region_shapley import (
    ShapleySettings,
    coalition_images,
    feathered_players,
    pixel_form,
    region_players,
    region_shapley,
    sampled_coalitions,
)
from facesimxai.explain.triplet_function import TripletFunction, from_triplet_model
from facesimxai.models.triplet import TripletHead, TripletModel
from facesimxai.validity.explainers import Inputs, region_values
from facesimxai.validity.sanity import map_similarity, randomised, rank1_share
from facesimxai.validity.truth import region_truth, trial_shares

SIZE = 8


def _players(n_faces: int) -> np.ndarray:
    """Four quadrant 'regions' per face (no rest pixels) → 5 players with an empty rest."""
    m = np.zeros((n_faces, 4, SIZE, SIZE), bool)
    h = SIZE // 2
    m[:, 0, :h, :h] = m[:, 1, :h, h:] = m[:, 2, h:, :h] = m[:, 3, h:, h:] = True
    return region_players(m)


class QuadrantMean(nn.Module):
    """Embedding = mean pixel value of quadrant ``q`` (and a constant), so only that region matters."""

    def __init__(self, q: int):
        super().__init__()
        self.q = q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = SIZE // 2
        sl = [(slice(0, h), slice(0, h)), (slice(0, h), slice(h, None)),
              (slice(h, None), slice(0, h)), (slice(h, None), slice(h, None))][self.q]
        return x[:, :, sl[0], sl[1]].mean(dim=(1, 2, 3))[:, None] * torch.ones(1, 2)


def distance_decision(emb: torch.Tensor) -> torch.Tensor:
    pairs = ((1, 2), (0, 2), (0, 1))
    return -torch.stack([((emb[:, j] - emb[:, k]) ** 2).sum(-1) for j, k in pairs], 1)


def _toy(q: int = 2, n_faces: int = 5, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    faces = torch.rand(n_faces, 3, SIZE, SIZE, generator=g) * 4
    refs = torch.zeros_like(faces)
    fn = TripletFunction(QuadrantMean(q), distance_decision)
    heads = np.array([[0, 1, 2], [3, 1, 4], [2, 4, 0], [1, 3, 2]])
    return fn, faces, refs, _players(n_faces), heads


def test_coalition_images_paste_the_reference_into_absent_players():
    players = _players(1)[0]
    face, ref = torch.ones(3, SIZE, SIZE), torch.zeros(3, SIZE, SIZE)
    imgs = coalition_images(face, ref, torch.as_tensor(players), np.array([0, 0b00001, 0b11111]))
    assert imgs[0].sum() == 0 and imgs[2].sum() == face.sum()
    assert torch.equal(imgs[1][0].bool(), torch.as_tensor(players[0]))


@pytest.mark.parametrize("exact", [True, False])
def test_a_decision_on_one_region_gives_it_all_the_shapley_value(exact):
    fn, faces, refs, players, heads = _toy(q=2)
    settings = ShapleySettings(n_permutations=6, max_exact_coalitions=1024 if exact else 4, seed=1, feather=0.0)
    rs = region_shapley(fn, faces, refs, players, heads, settings)
    assert rs.exact is exact
    others = np.delete(rs.phi, 2, axis=1)
    np.testing.assert_allclose(others, 0, atol=1e-9)
    np.testing.assert_allclose(rs.phi[:, 2], rs.v_full - rs.v_empty, atol=1e-6)
    assert np.abs(rs.phi[:, 2]).min() > 1e-3  # the decision really changes


def test_region_shapley_is_efficient_in_float64_for_a_model_using_every_region():
    torch.manual_seed(0)
    fn = TripletFunction(nn.Sequential(nn.Flatten(1), nn.Linear(3 * SIZE * SIZE, 4), nn.Tanh()).double(),
                         distance_decision)
    faces = torch.rand(5, 3, SIZE, SIZE, dtype=torch.float64)
    heads = np.array([[0, 1, 2], [3, 1, 4], [2, 4, 0]])
    for settings in (ShapleySettings(max_exact_coalitions=1024), ShapleySettings(8, 4, 0),
                     ShapleySettings(8, 4, 0, feather=0.0), ShapleySettings(feather=0.2)):
        rs = region_shapley(fn, faces, torch.zeros_like(faces), _players(5), heads, settings)
        np.testing.assert_allclose(rs.phi.sum(1), rs.v_full - rs.v_empty, atol=1e-6)
        intact = fn.logits(fn.embed(faces[heads.ravel()]).reshape(len(heads), 3, -1)).double().numpy()
        np.testing.assert_allclose(rs.logits, intact, atol=1e-9)  # v(all) is the intact triplet


def test_feathered_players_are_a_partition_of_unity_and_hard_at_zero():
    players = _players(1)[0]
    np.testing.assert_array_equal(feathered_players(players, 0.0), players.astype(float))
    soft = feathered_players(players, 0.2)
    assert (soft >= 0).all() and 0 < soft[0, 0, SIZE // 2].max() < 1  # the edge is blended
    np.testing.assert_allclose(soft.sum(0), 1, atol=1e-12)
    face, ref = torch.rand(3, SIZE, SIZE, dtype=torch.float64), torch.zeros(3, SIZE, SIZE, dtype=torch.float64)
    full = coalition_images(face, ref, torch.as_tensor(soft), np.array([0, 2**5 - 1]))
    assert torch.equal(full[0], ref) and torch.allclose(full[1], face, atol=1e-12)


class InteriorMean(nn.Module):
    """Mean of the central 8 × 8 of the lower-left quadrant of a 32-px image: ≥ 5 px from any other
    player, beyond the reach of a σ = 1 px feather (radius 4 px)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, 20:28, 4:12].mean(dim=(1, 2, 3))[:, None] * torch.ones(1, 2, dtype=x.dtype)


class EdgeEnergy(nn.Module):
    """Sum of squared neighbour differences: blind to a uniform shift of the image, alive to seams."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([(x.diff(dim=-1) ** 2).sum(dim=(1, 2, 3)), (x.diff(dim=-2) ** 2).sum(dim=(1, 2, 3))], 1)


def _quadrants(n_faces: int, size: int) -> np.ndarray:
    m = np.zeros((n_faces, 4, size, size), bool)
    h = size // 2
    m[:, 0, :h, :h] = m[:, 1, :h, h:] = m[:, 2, h:, :h] = m[:, 3, h:, h:] = True
    return region_players(m)


def test_a_decision_inside_one_feathered_region_gives_it_all_the_value():
    g = torch.Generator().manual_seed(1)
    faces = torch.rand(5, 3, 32, 32, generator=g, dtype=torch.float64) * 4
    heads = np.array([[0, 1, 2], [3, 1, 4], [2, 4, 0]])
    fn = TripletFunction(InteriorMean(), distance_decision)
    rs = region_shapley(fn, faces, torch.zeros_like(faces), _quadrants(5, 32), heads,
                        ShapleySettings(max_exact_coalitions=1024, feather=1 / 32))
    np.testing.assert_allclose(np.delete(rs.phi, 2, axis=1), 0, atol=1e-9)
    assert np.abs(rs.phi[:, 2]).min() > 1e-3


def test_feathering_keeps_seams_out_of_a_model_blind_to_the_change():
    """Each face is its reference shifted by a constant (a global tone the model ignores): the
    intact and the all-reference triplet decide alike, so no region should carry value; a hard
    paste invents seams that the edge-sensitive model reads, feathered edges much less."""
    g = torch.Generator().manual_seed(2)
    refs = torch.rand(5, 3, 32, 32, generator=g, dtype=torch.float64).cumsum(-1) / 32  # smooth ramps
    faces = refs + torch.arange(1, 6, dtype=torch.float64)[:, None, None, None]
    heads = np.array([[0, 1, 2], [3, 1, 4], [2, 4, 0]])
    fn = TripletFunction(EdgeEnergy(), distance_decision)
    value = {f: np.abs(region_shapley(fn, faces, refs, _quadrants(5, 32), heads,
                                      ShapleySettings(max_exact_coalitions=1024, feather=f)).phi).sum()
             for f in (0.0, 2 / 32)}
    assert value[0.0] > 0 and value[2 / 32] < 0.3 * value[0.0]


def test_sampled_region_shapley_approaches_the_exact_values():
    torch.manual_seed(0)
    fn = TripletFunction(nn.Sequential(nn.Flatten(1), nn.Linear(3 * SIZE * SIZE, 4), nn.Tanh()).double(),
                         distance_decision)
    faces = torch.rand(5, 3, SIZE, SIZE, dtype=torch.float64)
    heads = np.array([[0, 1, 2], [3, 1, 4]])
    exact = region_shapley(fn, faces, torch.zeros_like(faces), _players(5), heads, ShapleySettings())
    sampled = region_shapley(fn, faces, torch.zeros_like(faces), _players(5), heads, ShapleySettings(400, 4, 3))
    np.testing.assert_allclose(sampled.phi, exact.phi, atol=4 * sampled.se.max() + 1e-9)
    assert sampled.se.max() > 0 and sampled.halves is not None


def test_antithetic_permutations_come_in_reversed_pairs():
    perms, bits = sampled_coalitions(5, 6, seed=2)
    assert len(perms) == 6
    for a, b in zip(perms[::2], perms[1::2], strict=True):
        assert list(a) == list(b[::-1])
    assert (bits[:, -1] == 31).all() and (bits[:, 0] == 0).all()


def test_pixel_form_sums_back_to_the_region_values():
    _, _, _, players, heads = _toy()
    phi = np.random.default_rng(0).normal(size=(len(heads), players.shape[1]))
    phi[:, -1] = 0  # the toy's rest player is empty
    maps = pixel_form(phi, players, heads)
    np.testing.assert_allclose(region_values(maps, players, heads), phi, atol=1e-5)


def test_integrated_gradients_put_all_mass_in_the_region_the_decision_uses_and_are_complete():
    fn, faces, refs, players, heads = _toy(q=1)
    out = triplet_integrated_gradients(fn, faces, refs, heads, IGSettings(n_steps=64, baseline="black"))
    values = region_values(out["maps"].numpy(), players, heads)
    np.testing.assert_allclose(np.delete(values, 1, axis=1), 0, atol=1e-6)
    assert np.abs(values[:, 1]).min() > 1e-3
    assert out["completeness_error"].max() < 0.02


def _toy_triplet_model(seed: int) -> TripletModel:
    torch.manual_seed(seed)
    core = nn.Sequential(OrderedDict([("conv_1_1", nn.Conv2d(3, 4, 3, padding=1)), ("relu_1_1", nn.ReLU()),
                                      ("flatten", nn.Flatten(1)), ("fc6", nn.Linear(4 * SIZE * SIZE, 16)),
                                      ("fc6-relu", nn.ReLU())]))
    return TripletModel(core, TripletHead(16, 6, 0.0)).eval()


def test_a_randomised_head_changes_a_faithful_explainers_map():
    model = _toy_triplet_model(0)
    faces = torch.rand(6, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    heads = np.array([[0, 1, 2], [3, 4, 5], [1, 3, 5], [0, 2, 4]])
    base = torch.zeros_like(faces)
    ig = IGSettings(n_steps=16, baseline="black")
    trained = triplet_integrated_gradients(from_triplet_model(model), faces, base, heads, ig)["maps"].numpy()
    again = triplet_integrated_gradients(from_triplet_model(model), faces, base, heads, ig)["maps"].numpy()
    rand = triplet_integrated_gradients(from_triplet_model(randomised(model, [], seed=5)), faces, base, heads,
                                        ig)["maps"].numpy()
    assert map_similarity(trained, again)[0] == pytest.approx(1.0)
    assert map_similarity(trained, rand)[0] < 0.5
    # a map that ignores the model (the floor) cannot change
    assert map_similarity(np.abs(trained), np.abs(trained))[1] == pytest.approx(1.0)


def test_randomised_keeps_the_original_model_and_resets_the_cascade_layers():
    model = _toy_triplet_model(0)
    w = model.core.fc6.weight.detach().clone()
    r = randomised(model, ["fc6"], seed=3)
    assert torch.equal(model.core.fc6.weight, w) and not torch.equal(r.core.fc6.weight, w)
    assert torch.equal(r.core.conv_1_1.weight, model.core.conv_1_1.weight)


def test_rank1_share_of_a_rank_one_basis_is_one():
    u = torch.rand(5, 1, 1) * torch.rand(1, SIZE, SIZE)
    assert rank1_share(u) == pytest.approx(1.0)
    assert rank1_share(torch.eye(16).reshape(16, 4, 4)) == pytest.approx(1 / 16)


def test_region_truth_follows_each_groups_pixel_footprint():
    mass = np.zeros((3, 2, 3))  # faces × groups × players
    mass[:, 0, 0] = 1.0  # group 0 changes only player 0
    mass[:, 1, 1], mass[:, 1, 2] = 3.0, 1.0  # group 1: three quarters in player 1
    heads = np.array([[0, 1, 2]])
    np.testing.assert_allclose(trial_shares(mass, heads)[0], [[1, 0, 0], [0, 0.75, 0.25]])
    np.testing.assert_allclose(region_truth(np.array([[2.0, -4.0]]), mass, heads), [[2.0, -3.0, -1.0]])


def test_failed_explainers_in_use_are_named_in_one_sentence_per_model(tmp_path):
    from facesimxai.artifacts.gates import explainer_verdicts, validity_name

    rows = [("hum", "region_shapley", "explainer", 0.61, True), ("hum", "lrp_thesis", "explainer", 0.01, False),
            ("hum", "gradient", "explainer", 0.10, False), ("hum", "random", "floor", 0.0, False),
            ("maxp", "region_shapley", "explainer", 0.55, True)]
    import pandas as pd

    pd.DataFrame(rows, columns=["model", "explainer", "kind", "rho_vs_truth_within", "passed"]).to_csv(
        tmp_path / "v.csv", index=False)
    in_use = [validity_name(e) for e in ({"method": "region_shapley"}, {"method": "epsilon_alpha2_beta1_flat"},
                                         {"method": "occlusion"})]
    assert in_use == ["region_shapley", "lrp_thesis", None]
    lines = explainer_verdicts(tmp_path / "v.csv", [n for n in in_use if n])
    assert len(lines) == 1 and "hum" in lines[0] and "lrp_thesis" in lines[0] and "gradient" not in lines[0]


def test_reference_faces_mean_face_and_errors():
    from facesimxai.data.face_params import PARAMETER_NAMES
    from facesimxai.data.render import render_face
    from facesimxai.explain.references import reference_faces
    from facesimxai.models.vgg import preprocess

    images = np.stack([render_face(np.full(len(PARAMETER_NAMES), v), size=32) for v in (-0.5, 0.5)])
    faces = preprocess(images, 16, "rgb01")
    synthetic = reference_faces(images, faces, "mean", True, 16, "rgb01")
    want = preprocess(render_face(np.zeros(len(PARAMETER_NAMES)), size=32)[None], 16, "rgb01")[0]
    assert torch.equal(synthetic[0], want) and torch.equal(synthetic[1], want)
    real = reference_faces(images, faces, "mean", False, 16, "rgb01")
    pixel_mean = np.round(images.astype(np.float64).mean(0)).astype(np.uint8)[None]
    assert torch.equal(real[0], preprocess(pixel_mean, 16, "rgb01")[0])
    assert (reference_faces(images, faces, "black", False, 16, "rgb01") == 0).all()
    with pytest.raises(ValueError, match="unknown reference 'grey'"):
        reference_faces(images, faces, "grey", False, 16, "rgb01")


def test_sign_agreement_weights_entries_by_the_truth():
    from facesimxai.validity.run import sign_agreement

    truth = np.array([[2.0, -1.0, 0.0]])
    assert sign_agreement(np.array([[1.0, -5.0, 3.0]]), truth) == pytest.approx(1.0)
    assert sign_agreement(np.array([[1.0, 5.0, 3.0]]), truth) == pytest.approx(2 / 3)


def test_decision_maps_keep_the_target_face_for_positions_target_and_refuse_other_outputs():
    from facesimxai.explain.decision_methods import decision_maps
    from facesimxai.explain.engines import ExplainSettings

    fn, faces, refs, players, heads = _toy(q=1)
    all_maps, _, target, extra = decision_maps(ExplainSettings(method="integrated_gradients", output="contrastive",
                                                               positions="all", n_steps=8), fn, faces, refs, heads)
    one, _, _, _ = decision_maps(ExplainSettings(method="integrated_gradients", output="contrastive", n_steps=8),
                                 fn, faces, refs, heads)
    np.testing.assert_allclose(one, all_maps[np.arange(len(heads)), target])
    assert extra["completeness_error"][1].shape == (len(heads),)
    rs_maps, _, _, rs_extra = decision_maps(ExplainSettings(method="region_shapley", output="contrastive",
                                                            positions="all"), fn, faces, refs, heads, players=players)
    np.testing.assert_allclose(region_values(rs_maps, players, heads), rs_extra["region_value"][1], atol=1e-5)
    with pytest.raises(ValueError, match="set output: contrastive"):
        ExplainSettings(method="region_shapley")


def test_a_value_just_under_its_gate_is_not_printed_as_the_gate(tmp_path):
    """Regression (demo 2026-12-04): region Shapley's renderer-truth ρ 0.497 read "ρ 0.50 < 0.5"."""
    import pandas as pd

    from facesimxai.artifacts.gates import explainer_verdicts, validity_verdicts

    pd.DataFrame([("maxp", "region_shapley", "explainer", 0.497, False)],
                 columns=["model", "explainer", "kind", "rho_vs_truth_within", "passed"]).to_csv(
        tmp_path / "v.csv", index=False)
    (line,) = explainer_verdicts(tmp_path / "v.csv", ["region_shapley"])
    assert "ρ 0.497 < 0.5" in line
    probe = {"core_layer": "fc7", "fc7": {"eyes": 0.9, "brows": 0.9, "mouth": 0.4961, "head": 0.9, "hair": 0.9}}
    gen = {"hum": {"unseen_agreement_mean_observer": 0.5472, "chance": 1 / 3, "noise_ceiling": 0.75}}
    lines = validity_verdicts(probe, gen, {"hum": {"group_shapley_vs_observers_within_trial_rho": 0.31}})
    assert "R² 0.496 < 0.5" in lines[0] and "on 0.547 of" in lines[1] and "ρ 0.31 < 0.5" in lines[2]


def test_a_randomisation_failure_says_how_alike_the_random_model_decides(tmp_path):
    import pandas as pd

    from facesimxai.artifacts.gates import explainer_verdicts

    pd.DataFrame([("hum_distance", "region_shapley", "explainer", 0.56, 0.59, 0.85, False)],
                 columns=["model", "explainer", "kind", "rho_vs_truth_within", "randomised_head_rho",
                          "randomised_head_decision_agreement", "passed"]).to_csv(tmp_path / "v.csv", index=False)
    (line,) = explainer_verdicts(tmp_path / "v.csv", ["region_shapley"])
    assert "ρ 0.59 > 0.5, which makes the trained model's choice on 85% of trials" in line


def test_decision_agreement_of_a_model_with_itself_is_one_and_of_a_flipped_one_zero():
    from facesimxai.validity.run import decision_agreement

    model = _toy_triplet_model(0)
    faces = torch.rand(5, 3, SIZE, SIZE)
    heads = np.array([[0, 1, 2], [3, 1, 4], [2, 4, 0], [1, 3, 2]])
    inputs = Inputs(faces, faces, faces, _players(5), "rgb", torch.device("cpu"))
    fn = from_triplet_model(model)
    own = fn.logits(fn.embed(faces[torch.from_numpy(heads.ravel())]).reshape(4, 3, -1)).argmax(-1).numpy()
    assert decision_agreement(model, inputs, heads, own) == 1.0
    assert decision_agreement(model, inputs, heads, (own + 1) % 3) == 0.0
