"""Latent stage: streaming PCA equals in-memory PCA, the autoencoder beats the mean map, ids stay aligned."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import write_heatmap_store
from sklearn.decomposition import PCA

from facesimxai.io import open_zarr
from facesimxai.latent.autoencoder import run_autoencoder
from facesimxai.latent.embed import run_embed
from facesimxai.latent.maps import normalise
from facesimxai.latent.pca import run_pca, streaming_pca

SIZE = 16


def structured_maps(n: int, seed: int = 0, noise: float = 0.01) -> np.ndarray:
    """Signed blobs at a few positions with random amplitudes: low-dimensional structure plus noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    centres = [(4, 4), (4, 11), (11, 8)]
    blobs = np.stack([np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 6.0) for cy, cx in centres])
    coef = rng.normal(size=(n, len(centres))) * np.array([3.0, 2.0, 1.0])
    return np.einsum("nk,khw->nhw", coef, blobs) + rng.normal(0, noise, (n, SIZE, SIZE))


def write_store(path, maps, trial_ids=None, chunk=16):
    n = len(maps)
    ids = np.arange(n) if trial_ids is None else trial_ids
    heads = np.stack([ids % 8 + 1, (ids + 3) % 8 + 1, (ids + 5) % 8 + 1], axis=1)  # a function of the trial id
    ds = xr.Dataset(
        {"relevance": (("trial", "y", "x"), maps.astype(np.float32))},
        coords={"trial_id": ("trial", ids), "head1": ("trial", heads[:, 0]), "head2": ("trial", heads[:, 1]),
                "head3": ("trial", heads[:, 2]), "target_pos": ("trial", np.zeros(n, np.int8)),
                "pred_pos": ("trial", (ids % 3).astype(np.int8)), "human_odd": ("trial", (ids % 2).astype(np.int8)),
                "split": ("trial", np.array(["test"] * n, object))},
    )
    return write_heatmap_store(ds, path, chunk)


@pytest.mark.parametrize("batch", [10, 37])
def test_streaming_pca_equals_in_memory_pca(tmp_path, batch):
    """Exact when the maps span no more than the fitted components (IncrementalPCA's guarantee);
    batch 37 leaves a last batch of 2 < 3 components, which must join the previous one."""
    maps = structured_maps(150, noise=0.0)
    write_store(tmp_path / "s.zarr", maps)
    inc, scores = streaming_pca(tmp_path / "s.zarr", 3, batch, "abs_sum")
    flat = normalise(maps, "abs_sum").reshape(len(maps), -1)
    ref = PCA(3).fit(flat)
    np.testing.assert_allclose(inc.explained_variance_ratio_, ref.explained_variance_ratio_, rtol=1e-3)
    ref_scores = ref.transform(flat)
    for k in range(3):  # components agree up to sign
        sign = np.sign(np.dot(scores[:, k], ref_scores[:, k]))
        np.testing.assert_allclose(sign * scores[:, k], ref_scores[:, k], atol=1e-3 * np.abs(ref_scores).max())


def test_autoencoder_beats_the_mean_map_on_holdout(tmp_path):
    write_store(tmp_path / "s.zarr", structured_maps(240), chunk=50)
    cfg = {"input_size": SIZE, "latent_dim": 4, "epochs": 25, "lr": 3e-3, "batch_size": 16, "block_size": 64,
           "holdout": 0.25, "seed": 0}
    metrics = run_autoencoder(tmp_path / "s.zarr", cfg, "max_abs", "cpu", tmp_path / "ae.zarr", tmp_path / "ae.pt",
                              tmp_path / "ae.json")
    assert metrics["n_holdout"] == 60 and metrics["n_train"] == 180
    assert metrics["holdout_mse"] < 0.5 * metrics["baseline_mse"], metrics
    ae = open_zarr(tmp_path / "ae.zarr")
    assert ae["latent"].shape == (240, 4) and int(ae["holdout"].sum()) == 60
    assert json.loads((tmp_path / "ae.json").read_text())["history"][-1] < metrics["history"][0]


def test_shuffled_store_keeps_trial_ids_aligned(tmp_path):
    """Scores, latents and embedding rows follow the trial id, whatever the store's order."""
    maps = structured_maps(60)
    perm = np.random.default_rng(3).permutation(60)
    ordered = write_store(tmp_path / "a.zarr", maps)
    write_store(tmp_path / "b.zarr", maps[perm], trial_ids=perm)
    cfg = {"n_components": 3, "batch_size": 20, "normalise": "abs_sum"}
    pa = run_pca(tmp_path / "a.zarr", cfg, tmp_path / "pa.zarr")
    pb = run_pca(tmp_path / "b.zarr", cfg, tmp_path / "pb.zarr")
    sa = pd.DataFrame(pa["scores"].to_numpy(), index=pa["trial_id"].to_numpy()).sort_index()
    sb = pd.DataFrame(pb["scores"].to_numpy(), index=pb["trial_id"].to_numpy()).sort_index()
    corr = [abs(np.corrcoef(sa[k], sb[k])[0, 1]) for k in range(3)]
    assert min(corr) > 0.999, corr
    # the embedding table carries each trial's own coordinates
    ae_cfg = {"input_size": SIZE, "latent_dim": 3, "epochs": 1, "lr": 1e-3, "batch_size": 16, "block_size": 25,
              "holdout": 0.2, "seed": 0}
    run_autoencoder(tmp_path / "b.zarr", ae_cfg, "abs_sum", "cpu", tmp_path / "ae.zarr", tmp_path / "ae.pt",
                    tmp_path / "ae.json")
    embed_cfg = {"pca_dims": 3, "umap_neighbors": 5, "tsne_perplexity": 5, "k_range": [2, 3],
                 "hdbscan_min_cluster_size": 5, "batch_size": 16, "seed": 0}
    table = run_embed(tmp_path / "pb.zarr", tmp_path / "ae.zarr", tmp_path / "b.zarr", embed_cfg, "abs_sum",
                      tmp_path / "e.parquet", tmp_path / "c.json", tmp_path / "m.zarr")
    assert len(table) == 2 * 60 and set(table["source"]) == {"pca", "ae"}
    truth = pd.DataFrame({"trial_id": ordered["trial_id"].to_numpy(), "head1": ordered["head1"].to_numpy(),
                          "human_odd": ordered["human_odd"].to_numpy(), "pred_pos": ordered["pred_pos"].to_numpy()})
    merged = table.merge(truth, on="trial_id", suffixes=("", "_truth"))
    assert len(merged) == 120
    assert (merged["head1"] == merged["head1_truth"]).all() and (merged["human_odd"] == merged["human_odd_truth"]).all()
    assert (merged["model_agrees"] == (merged["pred_pos_truth"] == merged["human_odd_truth"])).all()
    means = open_zarr(tmp_path / "m.zarr")["mean_map"]
    assert means.dims == ("source", "cluster", "y", "x") and np.isfinite(means[0, 0]).all()


def test_bad_latent_settings_fail_clearly():
    from facesimxai.latent.autoencoder import ConvAutoencoder
    from facesimxai.latent.embed import embed_2d, kmeans_scan

    with pytest.raises(ValueError, match="input_size must be a multiple of 8"):
        ConvAutoencoder(input_size=30)
    with pytest.raises(ValueError, match="at least 5 trials"):
        embed_2d(np.zeros((3, 2)), "tsne", {"tsne_perplexity": 30, "seed": 0})
    with pytest.raises(ValueError, match="no k in"):
        kmeans_scan(np.zeros((3, 2)), [5, 6], 0)


def test_normalise_keeps_empty_maps_zero_and_scales_the_rest():
    maps = np.zeros((2, 2, 2))
    maps[1] = [[1.0, -3.0], [0.0, 0.0]]
    out = normalise(maps, "abs_sum")
    assert (out[0] == 0).all() and np.abs(out[1]).sum() == pytest.approx(1.0)
    assert normalise(maps, "max_abs")[1].min() == pytest.approx(-1.0)


def test_sampled_silhouette_finds_the_planted_clusters():
    """A 60-trial silhouette sample suffices to pick k = 3 among 3 well-separated blobs of 3,000."""
    from facesimxai.latent.embed import kmeans_scan

    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = np.concatenate([c + rng.normal(size=(1000, 2)) for c in centres])
    scores, best, labels = kmeans_scan(x, [2, 5], seed=0, silhouette_sample=60)
    assert best == 3 and len(labels) == 3000 and scores[3] > 0.7
    assert scores == kmeans_scan(x, [2, 5], seed=0, silhouette_sample=60)[0]  # seeded sample


def test_embedding_sample_caps_the_quadratic_steps():
    from facesimxai.latent.embed import embedding_sample

    assert embedding_sample(5, 10, 0).tolist() == [0, 1, 2, 3, 4]
    s = embedding_sample(1000, 50, 3)
    assert len(s) == 50 and len(set(s)) == 50 and (np.diff(s) > 0).all() and s.max() < 1000
    assert np.array_equal(s, embedding_sample(1000, 50, 3))


def test_streaming_pca_pins_blas_threads_whatever_the_caller_set(tmp_path, monkeypatch):
    """Regression (CI issue item 0): a resumed PCA differed from the pipeline's in the last float32
    digit where the test's child and the job ran BLAS on different thread counts. The fit now runs on
    a fixed thread count, so callers with 1 or 2 BLAS threads get bit-identical scores."""
    from sklearn.decomposition import IncrementalPCA
    from threadpoolctl import threadpool_info, threadpool_limits

    from facesimxai.numerics import DETERMINISTIC_BLAS_THREADS

    seen, original = [], IncrementalPCA.partial_fit

    def recording(self, *args, **kwargs):
        seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(IncrementalPCA, "partial_fit", recording)
    write_store(tmp_path / "s.zarr", structured_maps(120, noise=0.05))
    results = []
    for outer in (1, 2):
        with threadpool_limits(limits=outer, user_api="blas"):
            results.append(streaming_pca(tmp_path / "s.zarr", 5, 16, "abs_sum")[1])
    assert seen and set(seen) == {DETERMINISTIC_BLAS_THREADS}
    assert np.array_equal(results[0], results[1])


def test_cluster_means_refuse_a_damaged_store(tmp_path):
    """The embed stage reads maps through latent.maps; like every reading stage it must verify the
    store's chunk checksums first (issue 24: cluster_means read the store unchecked)."""
    import zarr

    from facesimxai.artifacts.heatmaps import StoreError
    from facesimxai.latent.embed import cluster_means

    path = tmp_path / "s.zarr"
    write_store(path, structured_maps(40), chunk=16)
    labels = np.arange(40) % 3
    assert cluster_means(path, labels, "abs_sum", 10).shape == (3, SIZE, SIZE)
    arr = zarr.open_array(path / "relevance", mode="r+")
    arr[20] = arr[20] + 1.0  # overwrite one trial of the second chunk
    with pytest.raises(StoreError, match=r"trials 16-31\) does not match the checksum"):
        cluster_means(path, labels, "abs_sum", 10)
