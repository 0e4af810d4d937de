"""Region relevance on hand-made heatmaps and masks with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import write_heatmap_store

from facesimxai.regions.relevance import compute_region_relevance, region_metrics

REGIONS = ["a", "b"]


def two_region_masks(size: int = 4) -> np.ndarray:
    """Region a = left two columns, region b = top-right pixel; the rest is outside both."""
    m = np.zeros((2, size, size), bool)
    m[0, :, :2] = True
    m[1, 0, size - 1] = True
    return m


def test_region_metrics_known_values():
    masks = two_region_masks()
    rmap = np.zeros((4, 4))
    rmap[0, 0], rmap[1, 1] = 3.0, -1.0  # region a: +3 and −1
    rmap[0, 3] = 2.0  # region b
    rmap[3, 3] = -4.0  # outside both regions
    out = {k: v[0] for k, v in region_metrics(rmap[None], masks).items()}
    total_abs = 3 + 1 + 2 + 4
    assert out["sum"].tolist() == [2.0, 2.0]
    assert out["mean"].tolist() == [2.0 / 8, 2.0]  # area a = 8 pixels, b = 1
    assert out["pos_sum"].tolist() == [3.0, 2.0]
    assert out["neg_sum"].tolist() == [-1.0, 0.0]
    np.testing.assert_allclose(out["share"], [2 / total_abs, 2 / total_abs])
    np.testing.assert_allclose(out["abs_share"], [4 / total_abs, 2 / total_abs])


def test_region_metrics_edge_cases():
    masks = two_region_masks()
    masks[1] = False  # a region without pixels
    out = region_metrics(np.zeros((1, 4, 4)), masks)
    assert np.isnan(out["mean"][0, 1]) and out["sum"][0, 1] == 0
    assert np.isnan(out["share"]).all()  # a map without relevance has no shares


def write_store(path, maps, heads, target_pos, chunk=2):
    n = len(maps)
    dims = ("trial", "y", "x") if maps.ndim == 3 else ("trial", "position", "y", "x")
    ds = xr.Dataset(
        {"relevance": (dims, maps.astype(np.float32)), "logits": (("trial", "logit"), np.zeros((n, 3), np.float32))},
        coords={"trial_id": ("trial", np.arange(100, 100 + n)), "head1": ("trial", heads[:, 0]),
                "head2": ("trial", heads[:, 1]), "head3": ("trial", heads[:, 2]),
                "target_pos": ("trial", target_pos.astype(np.int8)), "pred_pos": ("trial", target_pos.astype(np.int8)),
                "human_odd": ("trial", np.zeros(n, np.int8)), "split": ("trial", np.array(["test"] * n, object))},
    )
    write_heatmap_store(ds, path, chunk)


def write_masks(path, masks_by_face: dict[int, np.ndarray]):
    faces = sorted(masks_by_face)
    m = np.stack([masks_by_face[f] for f in faces])
    xr.Dataset({"mask": (("face", "region", "y", "x"), m)},
               coords={"face": faces, "region": np.array(REGIONS, object)}).to_zarr(path, mode="w", consolidated=False)


def write_face_store(path, maps, face_ids, n_trials):
    xr.Dataset({"relevance": (("face", "y", "x"), maps.astype(np.float32)), "n_trials": ("face", n_trials)},
               coords={"face_id": ("face", face_ids)}).to_zarr(path, mode="w", consolidated=False)


def test_streamed_table_uses_the_target_face_regions(tmp_path):
    """Each map is scored with the masks of the face at its target position, across store chunks."""
    face1 = two_region_masks()
    face2 = np.zeros_like(face1)
    face2[0, 2:, :] = True  # face 2: region a is the bottom half
    face2[1, 0, 0] = True
    rng = np.random.default_rng(0)
    maps = rng.normal(size=(5, 4, 4))
    heads = np.array([[1, 2, 3], [2, 1, 3], [3, 1, 2], [1, 3, 2], [2, 3, 1]])
    target = np.array([0, 0, 1, 2, 0])  # target faces: 1, 2, 1, 2, 2
    write_store(tmp_path / "s.zarr", maps, heads, target, chunk=2)
    write_masks(tmp_path / "m.zarr", {1: face1, 2: face2, 3: face1})
    write_face_store(tmp_path / "f.zarr", maps[:3], np.array([1, 2, 3]), np.array([2, 3, 0]))
    trials, faces = compute_region_relevance(tmp_path / "s.zarr", tmp_path / "f.zarr", tmp_path / "m.zarr", "hum",
                                             "lrp", tmp_path / "t.parquet", tmp_path / "fa.parquet")
    assert len(trials) == 5 * 2 and list(trials["region"].cat.categories) == REGIONS
    expected_face = [1, 2, 1, 2, 2]
    for i, face in enumerate(expected_face):
        rows = trials[trials["trial_id"] == 100 + i].set_index("region")
        mk = {1: face1, 2: face2}[face]
        assert rows["face_id"].iloc[0] == face
        for r, name in enumerate(REGIONS):
            assert rows.loc[name, "sum"] == pytest.approx(maps[i][mk[r]].sum(), rel=1e-5)
    # face table: face 3 had no trials and is skipped; values from the face store's maps
    assert sorted(faces["face_id"].unique()) == [1, 2]
    assert faces.set_index(["face_id", "region"]).loc[(2, "a"), "sum"] == pytest.approx(maps[1][face2[0]].sum(),
                                                                                          rel=1e-5)
    assert pd.read_csv(tmp_path / "t.csv").shape == trials.shape


def test_all_positions_store_scores_every_face(tmp_path):
    face = two_region_masks()
    maps = np.ones((2, 3, 4, 4))
    maps[:, 1] *= 2
    write_store(tmp_path / "s.zarr", maps, np.array([[1, 2, 3], [3, 2, 1]]), np.array([0, 1]))
    write_masks(tmp_path / "m.zarr", {1: face, 2: face, 3: face})
    write_face_store(tmp_path / "f.zarr", maps[:, 0], np.array([1, 2]), np.array([1, 1]))
    trials, _ = compute_region_relevance(tmp_path / "s.zarr", tmp_path / "f.zarr", tmp_path / "m.zarr", "hum",
                                         "lrp", tmp_path / "t.parquet", tmp_path / "fa.parquet")
    assert len(trials) == 2 * 3 * 2
    a = trials[trials["region"] == "a"].set_index(["trial_id", "position"])["sum"]
    assert a[(100, 0)] == 8 and a[(100, 1)] == 16 and a[(101, 2)] == 8


def test_masks_of_another_size_are_refused(tmp_path):
    write_store(tmp_path / "s.zarr", np.zeros((1, 4, 4)), np.array([[1, 2, 3]]), np.array([0]))
    write_masks(tmp_path / "m.zarr", {1: np.zeros((2, 8, 8), bool)})
    write_face_store(tmp_path / "f.zarr", np.zeros((1, 4, 4)), np.array([1]), np.array([1]))
    with pytest.raises(ValueError, match="backbone.input_size"):
        compute_region_relevance(tmp_path / "s.zarr", tmp_path / "f.zarr", tmp_path / "m.zarr", "hum", "lrp",
                                 tmp_path / "t.parquet", tmp_path / "fa.parquet")
    assert not (tmp_path / "t.parquet").exists()


def test_heatmaps_of_a_face_without_masks_name_the_face(tmp_path):
    write_store(tmp_path / "s.zarr", np.ones((1, 4, 4)), np.array([[5, 2, 3]]), np.array([0]))
    write_masks(tmp_path / "m.zarr", {2: two_region_masks(), 3: two_region_masks()})
    write_face_store(tmp_path / "f.zarr", np.zeros((1, 4, 4)), np.array([2]), np.array([1]))
    with pytest.raises(KeyError, match="face 5 has heatmaps but no region masks"):
        compute_region_relevance(tmp_path / "s.zarr", tmp_path / "f.zarr", tmp_path / "m.zarr", "hum", "lrp",
                                 tmp_path / "t.parquet", tmp_path / "fa.parquet")
    assert not (tmp_path / "t.parquet").exists() and not (tmp_path / "fa.parquet").exists()
