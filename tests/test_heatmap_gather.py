"""The gather step's refusals (explain.store): each damaged or inconsistent set of parts is named
in one error and leaves no store behind. Parts are written by the scatter jobs' own writer
(artifacts.heatmaps.part_dataset and write_part) on tiny synthetic arrays, so these run in a second."""

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from facesimxai.artifacts.heatmaps import StoreError, open_heatmaps, part_dataset, write_part
from facesimxai.explain.store import gather_heatmaps
from facesimxai.io import open_zarr

N_FACES, SIZE = 6, 4


def _part(rng: np.random.Generator, lo: int, hi: int, part: int, n_parts: int,
          relevance: np.ndarray | None = None) -> xr.Dataset:
    n = hi - lo
    heads = np.stack([rng.permutation(N_FACES)[:3] for _ in range(n)])
    rel = rng.normal(size=(n, SIZE, SIZE)).astype(np.float32) if relevance is None else relevance
    trials = pd.DataFrame({"trial_id": np.arange(lo, hi), "head1": heads[:, 0], "head2": heads[:, 1],
                           "head3": heads[:, 2], "odd_pos": 0, "split": "test"})
    return part_dataset(rel, np.zeros((n, 3)), np.zeros(n), trials, part=part, n_parts=n_parts,
                        trial_range=(lo, hi), engine="direct")


@pytest.fixture
def gather(tmp_path):
    """Write the given part datasets and gather them; returns (callable, output path)."""
    for name in ("backbone.pt", "head.pt"):
        (tmp_path / name).write_bytes(name.encode())
    pd.DataFrame({"face_id": np.arange(N_FACES)}).to_parquet(tmp_path / "manifest.parquet")
    out = tmp_path / "store.zarr"

    def run(datasets: list[xr.Dataset], damage=None):
        parts = [tmp_path / f"p{i}.zarr" for i in range(len(datasets))]
        markers = [tmp_path / f"p{i}.json" for i in range(len(datasets))]
        for ds, p, m in zip(datasets, parts, markers, strict=True):
            write_part(ds, p, m)
        if damage:
            damage(parts, markers)
        return gather_heatmaps(parts, markers, tmp_path / "backbone.pt", tmp_path / "head.pt",
                               tmp_path / "manifest.parquet", {"method": "toy"}, {"chunk_trials": 4}, "h",
                               out, tmp_path / "faces.zarr")

    return run, out


def test_intact_parts_gather_into_a_verified_store(gather):
    """The positive control for the refusals below: the same writer and gather give a store whose
    chunk checksums verify and whose relevance is the parts' in trial order."""
    run, out = gather
    rng = np.random.default_rng(0)
    parts = [_part(rng, 5, 9, 2, 2), _part(rng, 0, 5, 1, 2)]  # out of order on purpose
    run(parts)
    store = open_heatmaps(out)
    assert np.array_equal(store["trial_id"], np.arange(9))
    np.testing.assert_array_equal(store["relevance"], np.concatenate([parts[1]["relevance"], parts[0]["relevance"]]))
    assert open_zarr(out.parent / "faces.zarr")["n_trials"].sum() == 9


def test_a_part_changed_after_its_marker_is_refused(gather):
    run, out = gather

    def overwrite_one_value(parts, markers):
        ds = open_zarr(parts[0]).load()
        ds["relevance"][0, 0, 0] += 1
        ds.to_zarr(parts[0], mode="w", consolidated=False)

    with pytest.raises(StoreError, match=r"p0\.zarr does not match its marker .*p0\.json \(shape or checksum\)"):
        run([_part(np.random.default_rng(1), 0, 4, 1, 1)], overwrite_one_value)
    assert not out.exists()


def test_a_truncated_part_is_refused(gather):
    run, out = gather

    def drop_trials(parts, markers):
        ds = open_zarr(parts[0]).load().isel(trial=slice(0, 2))
        ds.to_zarr(parts[0], mode="w", consolidated=False)

    with pytest.raises(StoreError, match="does not match its marker"):
        run([_part(np.random.default_rng(2), 0, 4, 1, 1)], drop_trials)
    assert not out.exists()


def test_an_unreadable_marker_is_refused(gather):
    run, out = gather

    def garble(parts, markers):
        markers[0].write_text("{not json")

    with pytest.raises(StoreError, match=r"p0\.zarr cannot be read \(JSONDecodeError"):
        run([_part(np.random.default_rng(3), 0, 4, 1, 1)], garble)
    assert not out.exists()


def test_a_part_with_nan_relevance_is_refused_even_with_a_matching_marker(gather):
    run, out = gather
    rel = np.ones((4, SIZE, SIZE), np.float32)
    rel[2, 1, 1] = np.nan
    with pytest.raises(StoreError, match="p0.zarr contains NaN or infinite relevance"):
        run([_part(np.random.default_rng(4), 0, 4, 1, 1, relevance=rel)])
    rel[2, 1, 1] = np.inf
    with pytest.raises(StoreError, match="NaN or infinite"):
        run([_part(np.random.default_rng(4), 0, 4, 1, 1, relevance=rel)])
    assert not out.exists()


@pytest.mark.parametrize(("ranges", "message"), [
    ([(0, 4), (5, 9)], r"do not tile the trial range: \[0, 4\] then \[5, 9\]"),  # a gap
    ([(0, 5), (4, 9)], r"do not tile the trial range: \[0, 5\] then \[4, 9\]"),  # an overlap
    ([(0, 3), None, (6, 9)], r"incomplete: have \[1, 3\] of 3"),                   # a missing part
], ids=["gap", "overlap", "missing"])
def test_parts_that_do_not_tile_the_trial_range_are_refused(gather, ranges, message):
    run, out = gather
    rng = np.random.default_rng(5)
    parts = [_part(rng, *r, i, len(ranges)) for i, r in enumerate(ranges, start=1) if r is not None]
    with pytest.raises(StoreError, match=message):
        run(parts)
    assert not out.exists()


def test_all_zero_relevance_is_refused_as_a_dead_decision(gather):
    run, out = gather
    rng = np.random.default_rng(7)
    zeros = np.zeros((4, SIZE, SIZE), np.float32)
    with pytest.raises(StoreError, match="every relevance map for .*store.zarr is zero"):
        run([_part(rng, 0, 4, 1, 2, relevance=zeros), _part(rng, 4, 8, 2, 2, relevance=zeros.copy())])
    assert not out.exists()
    # one non-zero value anywhere is a live decision
    some = zeros.copy()
    some[3, 2, 2] = 1e-6
    run([_part(rng, 0, 4, 1, 2, relevance=zeros), _part(rng, 4, 8, 2, 2, relevance=some)])
    assert json.loads(open_zarr(out).attrs["explainer"]) == {"method": "toy"}
