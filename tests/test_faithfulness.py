"""Model-agnostic explanations and faithfulness on toy models whose relevant pixels are known."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import ROOT
from torch import nn

from facesimxai.bootstrap import mean_ci
from facesimxai.explain.occlusion import OcclusionSettings, occlusion_maps, patch_corners
from facesimxai.explain.triplet_function import TripletFunction, relative_similarity_logits
from facesimxai.faithfulness.maps import explainers_under_test, random_maps
from facesimxai.faithfulness.perturbation import aopc, area, pixel_curves, region_curves
from facesimxai.faithfulness.region_removal import RegionScorer, region_importances
from facesimxai.faithfulness.run import mask_top
from facesimxai.faithfulness.summary import best_explainers, metric_table, region_agreement
from facesimxai.landmarks.masks import load_region_masks
from facesimxai.models.features import maxp_odd

SIZE = 16
PLANTED = (slice(4, 9), slice(5, 11))  # rows 4-8, columns 5-10


class RegionMeans(nn.Module):
    """Embeds a face as the mean of its pixels inside each of ``masks`` (K regions)."""

    def __init__(self, masks: torch.Tensor):
        super().__init__()
        self.register_buffer("masks", masks.float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("nchw,khw->nk", x, self.masks) / self.masks.sum(dim=(1, 2))


def planted_mask() -> torch.Tensor:
    m = torch.zeros(SIZE, SIZE, dtype=torch.bool)
    m[PLANTED] = True
    return m


def toy(decide=None, masks=None) -> TripletFunction:
    """Odd = the face with the highest mean inside the planted region (logit_j = that mean)."""
    masks = planted_mask()[None] if masks is None else masks
    return TripletFunction(RegionMeans(masks), decide or (lambda emb: emb[..., 0]), "toy")


@pytest.fixture
def faces():
    rng = np.random.default_rng(0)
    return torch.from_numpy(rng.uniform(0.2, 1.0, (6, 1, SIZE, SIZE)).astype(np.float32))


def test_metrics_rank_oracle_above_random_above_anti_oracle(faces):
    fn = toy()
    heads = np.array([[0, 1, 2], [3, 4, 5], [1, 3, 5], [0, 2, 4]])
    trip = fn.embed(faces)[torch.from_numpy(heads)]
    target = fn.logits(trip).argmax(1)
    baseline = torch.zeros_like(faces)
    oracle = planted_mask().float().numpy()
    maps = {"oracle": lambda t: oracle * faces[t, 0].numpy(),  # each pixel's true contribution
            "random": lambda t: random_maps((1, SIZE, SIZE), np.array([t]), seed=3)[0],
            "anti": lambda t: -oracle * faces[t, 0].numpy()}
    got = {}
    for name, make in maps.items():
        rows = []
        for t in range(len(heads)):
            f = heads[t, target[t]]
            dele, ins = pixel_curves(fn, faces[f], baseline[f], make(f), trip[t], target[t], 16, "logit")
            morf, lerf = region_curves(fn, faces[f], baseline[f], make(f), trip[t], target[t], 4, 16, "logit")
            rows.append((area(dele), area(ins), aopc(morf) - aopc(lerf)))
            assert dele[0] == pytest.approx(ins[-1]) and dele[-1] == pytest.approx(ins[0])  # full → baseline
        got[name] = np.mean(rows, axis=0)
    deletion, insertion, abpc = (np.array([got[n][i] for n in ("oracle", "random", "anti")]) for i in range(3))
    assert deletion[0] < deletion[1] < deletion[2]
    assert insertion[0] > insertion[1] > insertion[2]
    assert abpc[0] > abpc[1] > abpc[2]


def test_occlusion_finds_the_planted_region(faces):
    fn = toy()
    heads = np.array([[0, 1, 2], [3, 4, 5]])
    settings = OcclusionSettings(patches=(2 / SIZE, 4 / SIZE), stride=1 / SIZE, blur=False)
    maps, logits, target, sim = occlusion_maps(fn, faces, heads, torch.zeros(1, SIZE, SIZE), settings)
    inside = planted_mask().numpy()
    near = np.zeros_like(inside)  # pixels a 4-px patch touching the region can reach
    near[max(0, PLANTED[0].start - 3):PLANTED[0].stop + 3, max(0, PLANTED[1].start - 3):PLANTED[1].stop + 3] = True
    for m in maps.numpy():
        assert m[inside].min() > 0 and np.abs(m[~near]).max() < 1e-6 * m.max()
        assert inside.ravel()[m.argmax()]
        top = np.argsort(-m.ravel())[: inside.sum()]
        assert inside.ravel()[top].mean() >= 0.8  # the top pixels are (nearly all) the planted ones
    assert torch.equal(target, logits.argmax(1)) and sim.shape == (2, 2, SIZE, SIZE)
    # a one-unit embedding: occluding the planted region cannot change a cosine similarity
    assert torch.allclose(sim, torch.zeros_like(sim), atol=1e-6)
    everything = occlusion_maps(fn, faces, heads, torch.zeros(1, SIZE, SIZE), settings, positions="all")[0]
    assert everything.shape == (2, 3, SIZE, SIZE)
    assert torch.allclose(everything[torch.arange(2), target], maps)


def test_similarity_drop_sees_what_the_decision_ignores(faces):
    """Embedding = (mean in P, mean in Q); the decision reads P only. Occluding Q leaves the target
    logit alone (relevance 0) but turns the embedding away from the other faces' (similarity drop > 0)."""
    masks = torch.zeros(2, SIZE, SIZE, dtype=torch.bool)
    masks[0][PLANTED] = True
    masks[1, 11:15, 1:5] = True  # Q, far from P
    fn = toy(masks=masks)
    trio = faces[[0, 0, 0]]  # the other two faces are copies: the similarity starts at 1
    settings = OcclusionSettings(patches=(2 / SIZE,), stride=1 / SIZE, blur=False)
    maps, _, target, sim = occlusion_maps(fn, trio, np.array([[0, 1, 2]]), torch.zeros(1, SIZE, SIZE), settings)
    q = masks[1].numpy()
    far = np.ones((SIZE, SIZE), bool)
    far[2:11, 3:13] = far[9:16, 0:7] = False  # away from P and Q by more than a patch
    assert np.abs(maps[0].numpy()[q]).max() < 1e-6 and maps[0].numpy()[masks[0].numpy()].min() > 0
    for k in range(2):
        drop = sim[0, k].numpy()
        assert drop[q].min() > 0 and drop[masks[0].numpy()].min() > 0 and np.abs(drop[far]).max() < 1e-6


def test_occlusion_embeds_each_face_once_per_patch(faces):
    calls = []
    fn = toy()
    embed = fn.embed
    fn.embed = lambda x: calls.append(len(x)) or embed(x)
    heads = np.array([[0, 1, 2], [0, 2, 1], [0, 3, 4], [4, 3, 0]])  # four trials whose odd face is face 0
    faces = faces.clone()
    faces[0] += 1.0  # face 0 has the highest planted mean: it is the target in every trial
    settings = OcclusionSettings(patches=(4 / SIZE,), stride=2 / SIZE)
    occlusion_maps(fn, faces, heads, torch.zeros(1, SIZE, SIZE), settings)
    assert calls == [len(faces), len(patch_corners(SIZE, 4, 2))]  # not once per trial


def test_region_techniques_match_a_hand_computation():
    """Two regions R0, R1 and a third nobody uses; score = min(mean R0, mean R1) of the target."""
    masks = torch.zeros(3, SIZE, SIZE, dtype=torch.bool)
    masks[0, :8, :8], masks[1, 8:, 8:], masks[2, :8, 8:] = True, True, True
    face = torch.zeros(1, SIZE, SIZE)
    a, b = 0.3, 0.7
    face[0, :8, :8], face[0, 8:, 8:], face[0, :8, 8:] = a, b, 5.0
    fn = toy(decide=lambda emb: emb[..., :2].min(dim=-1).values, masks=masks)
    other = torch.zeros(2, 1, SIZE, SIZE) - 1
    trip = fn.embed(torch.cat([face[None], other]))[None]
    scorer = RegionScorer(fn, face, torch.zeros_like(face), masks)
    imp = region_importances(scorer, trip[0], torch.tensor(0), "logit")
    # single removal: removing either region drops min(a, b) = a to 0
    assert np.allclose(imp["single_removal"], [a, a, 0])
    # greedy removal: R0 first (ties go to the lower index), then nothing is left to lose
    assert np.allclose(imp["greedy_removal"], [a, 0, 0])
    # single aggregation: one region alone keeps min(·, 0) = 0
    assert np.allclose(imp["single_aggregation"], [0, 0, 0])
    # greedy aggregation: restoring R0 alone gains nothing; then R1 restores min(a, b) = a
    assert np.allclose(imp["greedy_aggregation"], [0, a, 0])
    assert np.allclose(imp["average"], [(0.5 + 1) / 4, (0.5 + 1) / 4, 0])
    assert len(scorer.cache) <= 8  # each region set embedded once: at most 2^3 sets


def test_masking_replaces_exactly_the_top_fraction():
    faces = torch.ones(2, 1, 4, 4)
    maps = np.arange(32, dtype=float).reshape(2, 4, 4)
    masked = mask_top(faces, torch.zeros_like(faces), maps, 0.25)
    assert (masked == 0).sum(dim=(1, 2, 3)).tolist() == [4, 4]
    assert (masked[:, 0].reshape(2, -1)[:, -4:] == 0).all()  # the four highest-relevance pixels


def test_masks_of_faces_the_landmark_stage_dropped_are_empty(tmp_path):
    import xarray as xr

    mask = np.zeros((2, 3, 4, 4), bool)
    mask[0, 1, :2] = mask[1, 2, 2:] = True
    xr.Dataset({"mask": (("face", "region", "y", "x"), mask)},
               coords={"face": [1, 3], "region": ["a", "b", "c"]}, attrs={"input_size": 4}).to_zarr(tmp_path / "m.zarr")
    got, regions = load_region_masks(tmp_path / "m.zarr", np.array([1, 2, 3]), 4)  # face 2 was dropped
    assert regions == ["a", "b", "c"] and got.shape == (3, 3, 4, 4)
    assert np.array_equal(got[0], mask[0]) and np.array_equal(got[2], mask[1])
    assert not got[1].any()
    with pytest.raises(ValueError, match="region masks are 4 px, the model input is 8 px"):
        load_region_masks(tmp_path / "m.zarr", np.array([1]), 8)


def test_similarity_logits_follow_the_maxp_rule():
    emb = torch.randn(50, 3, 8, generator=torch.Generator().manual_seed(1))
    odd = relative_similarity_logits(emb).argmax(1).numpy()
    heads = np.arange(1, 151).reshape(50, 3)
    assert np.array_equal(odd, maxp_odd(emb.reshape(150, 8).numpy(), heads, "relative"))


def test_explainers_under_test_add_only_missing_comparisons():
    got = explainers_under_test({"lrp": {"method": "epsilon_plus_flat"}, "grad": {"method": "gradient"}})
    assert list(got) == ["lrp", "grad", "gradient_x_input", "occlusion", "random"]


def test_summary_ranks_with_a_paired_lead():
    rng = np.random.default_rng(0)
    n = 40
    scores = pd.DataFrame({"model": "hum", "trial_id": np.tile(np.arange(n), 2),
                           "explainer": ["good"] * n + ["bad"] * n, "method": "x",
                           "deletion_auc": np.r_[rng.normal(0.2, 0.05, n), rng.normal(0.5, 0.05, n)],
                           "insertion_auc": 0.5, "abpc": 0.0, "morf_aopc": 0.0, "lerf_aopc": 0.0})
    table = metric_table(scores, 500, 0)
    best = {b["metric"]: b for b in best_explainers(scores, table, 500, 0)}
    assert best["deletion_auc"]["best"] == "good" and best["deletion_auc"]["lead_excludes_zero"]
    scores.loc[:4, "deletion_auc"] = np.nan  # 5 trials without a score: counted out, and logged
    assert metric_table(scores, 200, 0).set_index(["explainer", "metric"]).loc[("good", "deletion_auc"), "n"] == n - 5
    mean, lo, hi = mean_ci(np.array([1.0, 2.0, 3.0, 4.0, np.nan]), 0, 500)
    assert lo < mean == 2.5 < hi  # the NaN is left out
    assert mean_ci(np.array([0.3, 0.3]), 0) == (0.3, 0.3, 0.3)


def test_region_agreement_is_the_per_trial_rank_correlation():
    regions = list("abcd")
    rows = []
    for trial, sign in ((1, 1), (2, -1), (3, 1)):  # trial 2: the explainer ranks the regions backwards
        for i, r in enumerate(regions):
            rows.append({"model": "hum", "trial_id": trial, "region": r, "source": "lrp", "importance": sign * i})
            for technique in ("single_removal", "greedy_removal", "single_aggregation", "greedy_aggregation",
                              "average"):
                rows.append({"model": "hum", "trial_id": trial, "region": r, "source": technique,
                             "importance": float(i) ** 2})
    table = region_agreement(pd.DataFrame(rows), 200, 0).set_index("technique")
    assert set(table.index) == {"single_removal", "greedy_removal", "single_aggregation", "greedy_aggregation",
                                "average"}
    assert np.allclose(table["rho"], 1 / 3) and (table["n"] == 3).all()  # mean of +1, -1, +1


@pytest.mark.integration
def test_occlusion_store_has_the_lrp_format_and_feeds_region_relevance(first_run, tmp_path):
    from facesimxai.explain.part import explain_part
    from facesimxai.explain.store import gather_heatmaps
    from facesimxai.io import open_zarr
    from facesimxai.regions.relevance import compute_region_relevance

    res = first_run
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    explain_cfg = {"splits": ["test"], "engine": "auto", "dtype": "float32", "chunk_trials": 16, "batch_size": 8,
                   "basis_batch": 8}
    explainer = {"method": "occlusion", "patches": [0.125, 0.25], "stride": 0.125}
    m = res / "models"
    explain_part(m / "backbone.pt", m / "hum" / "head.pt", res / "faces" / "manifest.parquet",
                 res / "judgments" / "trials.parquet", m / "maxp_targets.parquet", explainer=explainer,
                 explain_cfg=explain_cfg, maxp_rule=cfg.get("models", {}).get("maxp_rule", "relative"),
                 scatteritem="1-of-1", device="cpu", threads=1, out=tmp_path / "part.zarr",
                 marker=tmp_path / "part.json")
    assert json.loads((tmp_path / "part.json").read_text())["engine"] == "occlusion"
    gather_heatmaps([tmp_path / "part.zarr"], [tmp_path / "part.json"], m / "backbone.pt", m / "hum" / "head.pt",
                    res / "faces" / "manifest.parquet", explainer, explain_cfg, "x", tmp_path / "occ.zarr",
                    tmp_path / "occ_faces.zarr")
    occ, lrp = open_zarr(tmp_path / "occ.zarr"), open_zarr(res / "heatmaps" / "hum" / "lrp.zarr")
    assert occ["relevance"].dims == ("trial", "y", "x") and occ["similarity_drop"].dims[:2] == ("trial", "other")
    test = lrp.where(lrp["split"] == "test", drop=True)
    assert np.array_equal(occ["trial_id"], test["trial_id"]) and np.array_equal(occ["pred_pos"], test["pred_pos"])
    out = {k: tmp_path / f"{k}.parquet" for k in ("trials", "faces")}
    compute_region_relevance(tmp_path / "occ.zarr", tmp_path / "occ_faces.zarr", res / "regions" / "masks.zarr",
                             "hum", "occlusion", out["trials"], out["faces"])
    table = pd.read_parquet(out["trials"])
    assert set(table["trial_id"]) == set(test["trial_id"].to_numpy()) and table["sum"].abs().sum() > 0
