"""2-D embeddings (UMAP, t-SNE) and clusters (k-means with silhouette, HDBSCAN) of latent codes.

Runs on PCA scores and autoencoder latents (both already small: trials × components), so memory
is trials × dims; cluster-mean heatmaps are accumulated by streaming the store.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.cluster import HDBSCAN, KMeans
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

from facesimxai.artifacts.heatmaps import TRIAL_COORDS
from facesimxai.io import atomic_path, open_zarr, write_json, write_parquet
from facesimxai.latent.maps import iter_maps

log = logging.getLogger(__name__)


def embed_2d(x: np.ndarray, method: str, cfg: dict) -> np.ndarray:
    """UMAP or t-SNE of standardised codes (seeded)."""
    n = len(x)
    if n < 5:
        raise ValueError(f"an embedding needs at least 5 trials, got {n}")
    if method == "umap":
        import umap  # imported here: numba compiles on import, which only this step needs

        reducer = umap.UMAP(n_components=2, n_neighbors=min(cfg["umap_neighbors"], n - 1), random_state=cfg["seed"])
        return reducer.fit_transform(x).astype(np.float32)
    perplexity = min(cfg["tsne_perplexity"], (n - 1) / 3)
    return TSNE(2, perplexity=perplexity, init="pca", random_state=cfg["seed"]).fit_transform(x).astype(np.float32)


def kmeans_scan(x: np.ndarray, k_range: list[int], seed: int,
                silhouette_sample: int = 5000) -> tuple[dict[int, float], int, np.ndarray]:
    """k-means for each k (silhouette per k); returns scores, the best k and its labels.

    Silhouettes use a seeded sample of ``silhouette_sample`` trials: the exact score needs all
    pairwise distances, hours for the full study's 185,000 trials.
    """
    scores, labels = {}, {}
    for k in range(k_range[0], k_range[1] + 1):
        if k >= len(x):
            break
        km = KMeans(k, n_init=10, random_state=seed).fit(x)
        if len(set(km.labels_)) < 2:
            continue
        scores[k] = float(silhouette_score(x, km.labels_, random_state=seed,
                                             sample_size=min(len(x), silhouette_sample)))
        labels[k] = km.labels_
    if not scores:
        raise ValueError(f"no k in {k_range} gives two clusters for {len(x)} trials")
    best = max(scores, key=scores.get)
    return scores, best, labels[best]


def cluster_means(store: Path | str, labels: np.ndarray, how: str, batch: int) -> np.ndarray:
    """Mean normalised map per cluster label (0..max), streamed from the store."""
    k = int(labels.max()) + 1
    sums, counts = None, np.zeros(k)
    for idx, maps in iter_maps(store, batch, how):
        if sums is None:
            sums = np.zeros((k, *maps.shape[1:]))
        np.add.at(sums, labels[idx], maps)
        counts += np.bincount(labels[idx], minlength=k)
    return (sums / np.maximum(counts, 1)[:, None, None]).astype(np.float32)


def embedding_sample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Sorted trial indices that get 2-D embeddings and HDBSCAN: all, or a seeded sample.

    t-SNE and HDBSCAN grow faster than linearly (hours on CPU for the full study's 185,000 trials);
    k-means and the cluster means always use every trial.
    """
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))


def run_embed(pca: Path | str, autoencoder: Path | str, store: Path | str, cfg: dict, how: str,
              table_out: Path | str, clusters_out: Path | str, means_out: Path | str) -> pd.DataFrame:
    """Embed and cluster PCA scores and AE latents; one row per trial × source, trial ids kept."""
    sources = {"pca": open_zarr(pca)["scores"][:, : cfg["pca_dims"]], "ae": open_zarr(autoencoder)["latent"]}
    rows, summary, means = [], {}, {}
    for name, codes in sources.items():
        x = StandardScaler().fit_transform(codes.to_numpy().astype(np.float64))
        table = pd.DataFrame({c: codes[c].to_numpy() for c in TRIAL_COORDS})
        table["split"] = table["split"].astype(str)
        heads = table[["head1", "head2", "head3"]].to_numpy()
        table["odd_face"] = heads[np.arange(len(table)), table["human_odd"].to_numpy().astype(int)]
        table["model_agrees"] = table["pred_pos"] == table["human_odd"]
        table.insert(0, "source", name)
        sample = embedding_sample(len(x), cfg.get("max_points", 20000), cfg["seed"])
        table["embedded"] = np.isin(np.arange(len(x)), sample)
        for method in cfg.get("methods", ["umap", "tsne"]):
            xy = np.full((len(x), 2), np.nan)
            xy[sample] = embed_2d(x[sample], method, cfg)
            table[f"{method}_x"], table[f"{method}_y"] = xy[:, 0], xy[:, 1]
        sil, best, labels = kmeans_scan(x, cfg["k_range"], cfg["seed"], cfg.get("silhouette_sample", 5000))
        table["kmeans"] = labels
        hd = HDBSCAN(min_cluster_size=min(cfg["hdbscan_min_cluster_size"], len(sample)), copy=True).fit(x[sample])
        hdbscan_labels = np.full(len(x), -2)  # -2: not in the embedding sample; -1: HDBSCAN noise
        hdbscan_labels[sample] = hd.labels_
        table["hdbscan"] = hdbscan_labels
        summary[name] = {"silhouette_by_k": sil, "best_k": best, "best_silhouette": sil[best],
                         "hdbscan_clusters": int(hd.labels_.max() + 1),
                         "hdbscan_noise_fraction": float(np.mean(hd.labels_ < 0)), "n_trials": len(x),
                         "n_embedded": len(sample),
                         "dims": int(x.shape[1])}
        means[name] = cluster_means(store, labels, how, cfg["batch_size"])
        log.info("%s: best k=%d (silhouette %.3f), HDBSCAN %d clusters, %.0f%% noise", name, best, sil[best],
                 summary[name]["hdbscan_clusters"], 100 * summary[name]["hdbscan_noise_fraction"])
        rows.append(table)
    table = pd.concat(rows, ignore_index=True)
    write_parquet(table, table_out, csv=True)
    write_json(summary, clusters_out)
    k_max = max(len(m) for m in means.values())
    h, w = next(iter(means.values())).shape[1:]
    arr = np.full((len(means), k_max, h, w), np.nan, np.float32)
    for i, m in enumerate(means.values()):
        arr[i, : len(m)] = m
    ds = xr.Dataset({"mean_map": (("source", "cluster", "y", "x"), arr)},
                    coords={"source": np.array(list(means), object), "cluster": np.arange(k_max)},
                    attrs={"normalise": how, "clustering": "k-means at the best silhouette"})
    with atomic_path(means_out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    return table
