"""A damaged heatmap chunk (missing, truncated or overwritten) is named when a stage opens the
store, never read silently; through Snakemake the stage fails and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, snakemake, write_heatmap_store

from facesimxai.artifacts.heatmaps import StoreError, open_heatmaps
from facesimxai.io import open_zarr
from facesimxai.latent.pca import run_pca


@pytest.fixture
def store(first_run, tmp_path) -> Path:
    """The pipeline's hum/lrp store, re-chunked to 4 chunks so a middle chunk can be damaged."""
    ds = open_zarr(first_run / "heatmaps" / "hum" / "lrp.zarr").load()
    ds.attrs = {k: v for k, v in ds.attrs.items() if not k.startswith("relevance_chunk")}
    for var in ds.variables.values():
        var.encoding = {}
    path = tmp_path / "lrp.zarr"
    write_heatmap_store(ds, path, chunk=-(-ds.sizes["trial"] // 4))
    return path


def chunk_file(store: Path, i: int) -> Path:
    return store / "relevance" / "c" / str(i) / "0" / "0"


def missing(path: Path) -> None:
    path.unlink()


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def overwritten(path: Path) -> None:  # valid data, wrong place: decodes fine, checksum differs
    path.write_bytes(chunk_file(path.parents[4], 0).read_bytes())


@pytest.mark.parametrize("damage", [missing, truncated, overwritten])
def test_damaged_chunk_is_named_and_nothing_is_written(store, tmp_path, damage):
    assert open_heatmaps(store).sizes["trial"] > 0  # intact: opens
    damage(chunk_file(store, 2))
    with pytest.raises(StoreError, match=r"chunk .*lrp\.zarr/relevance/c/2/0/0 \(trials \d+-\d+\)"):
        open_heatmaps(store)
    out = tmp_path / "pca.zarr"
    with pytest.raises(StoreError, match="c/2/0/0"):
        run_pca(store, {"n_components": 4, "batch_size": 50, "normalise": "abs_sum"}, out)
    assert not out.exists()


def test_store_without_checksums_is_refused(store):
    ds = open_zarr(store).load()
    ds.attrs = {}
    for var in ds.variables.values():
        var.encoding = {}
    ds.to_zarr(store.parent / "old.zarr", mode="w", consolidated=False)
    with pytest.raises(StoreError, match="old.zarr has no chunk checksums"):
        open_heatmaps(store.parent / "old.zarr")


@pytest.mark.integration
def test_damaged_store_stops_the_stage_that_reads_it(first_run, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(first_run.parent, work, symlinks=True)
    store = work / "results" / "heatmaps" / "maxp" / "lrp.zarr"
    chunk = sorted((store / "relevance" / "c").iterdir())[0] / "0" / "0"
    good = chunk.read_bytes()
    chunk.write_bytes(good[:-7])  # truncated
    before = (work / "results" / "regions" / "maxp" / "lrp_trials.parquet")
    proc = snakemake(work, ROOT / "config" / "test.yaml", "--forcerun", "region_relevance",
                     "results/regions/maxp/lrp_trials.parquet")
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in log
    assert f"heatmap store results/heatmaps/maxp/lrp.zarr: chunk {Path('results/heatmaps/maxp/lrp.zarr')}" in log
    assert not before.exists()
    chunk.write_bytes(good)
    assert np.isfinite(open_heatmaps(store)["relevance"].to_numpy()).all()
