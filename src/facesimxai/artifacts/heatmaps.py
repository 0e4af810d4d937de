"""The heatmap store's contract: its layout, its integrity checks and how to read the target maps.

``results/heatmaps/{model}/{explainer}.zarr`` (xarray, Zarr v3), one per model and explainer:

=================== ============================ ==============================================
relevance           [trial, y, x] or             float32/float16, chunked along trial; the map of
                    [trial, position, y, x]      the target position, or of all three positions
logits              [trial, logit]               the model's three logits
trial_id            [trial]                      the trial's id in ``judgments/trials.parquet``
head1, head2, head3 [trial]                      face ids shown at positions 0, 1, 2
target_pos          [trial]                      the position whose output is explained
pred_pos, human_odd [trial]                      the model's and the observers' odd position
split               [trial]                      train / val / test
=================== ============================ ==============================================

Attributes: explainer settings, engine, model checksums, config hash, package versions and one
SHA-256 per trial chunk of ``relevance`` (``chunk_checksums``), checked by ``open_heatmaps``.
``{explainer}_faces.zarr`` holds relevance[face, y, x], the mean target map over the trials in
which the face is the target (the thesis's per-face maps), n_trials[face] and face_id[face].

Every stage opens stores with ``open_heatmaps`` and asks this module which map or face is the
target (``read_target_maps``, ``target_faces``), so the layout is spelled out here only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import xarray as xr

from facesimxai.errors import InputError
from facesimxai.io import open_zarr

#: Per-trial coordinates of every store; latent outputs copy them so each point traces back.
TRIAL_COORDS = ("trial_id", "head1", "head2", "head3", "target_pos", "pred_pos", "human_odd", "split")
HEAD_COORDS = ("head1", "head2", "head3")


class StoreError(InputError):
    """A heatmap part or store that fails validation; the message names it."""


def array_sha256(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def chunk_checksums(relevance: np.ndarray, chunk: int) -> dict:
    """SHA-256 of each trial chunk's values, kept in the store's attributes.

    Zarr reads a missing chunk file as fill values without complaint, and a chunk overwritten
    with other valid data decodes fine: only a checksum per chunk, checked when a stage opens the
    store, turns those into an error that names the chunk.
    """
    sums = [array_sha256(relevance[s:s + chunk]) for s in range(0, len(relevance), chunk)]
    return {"relevance_chunk_trials": int(chunk), "relevance_chunk_sha256": json.dumps(sums)}


def open_heatmaps(path: Path | str) -> xr.Dataset:
    """Open a heatmap store after checking every relevance chunk against its gather-time checksum.

    Costs one sequential read of the store (bounded by one chunk in memory); every stage that
    reads heatmaps opens them here, so a damaged store stops the first stage that meets it.
    """
    import zarr

    ds = open_zarr(path)
    if "relevance_chunk_sha256" not in ds.attrs:
        raise StoreError(f"heatmap store {path} has no chunk checksums (written by an older version or "
                         "not by the gather rule); delete it and re-run to rebuild it")
    sums = json.loads(ds.attrs["relevance_chunk_sha256"])
    chunk = int(ds.attrs["relevance_chunk_trials"])
    n = ds.sizes["trial"]
    if len(sums) != -(-n // chunk):
        raise StoreError(f"heatmap store {path} has {n} trials but checksums for {len(sums)} chunks of "
                         f"{chunk}: it was truncated or rewritten; delete it and re-run to rebuild it")
    meta = zarr.open_array(Path(path) / "relevance", mode="r").metadata
    for i, want in enumerate(sums):
        lo, hi = i * chunk, min((i + 1) * chunk, n)
        key = Path(path) / "relevance" / meta.encode_chunk_key((i, *[0] * (ds["relevance"].ndim - 1)))
        try:
            got = array_sha256(ds["relevance"][lo:hi].to_numpy())
        except Exception as exc:
            raise StoreError(f"heatmap store {path}: chunk {key} (trials {lo}-{hi - 1}) cannot be read "
                             f"({type(exc).__name__}: {exc}); delete the store and re-run to rebuild it") from exc
        if got != want:
            raise StoreError(f"heatmap store {path}: chunk {key} (trials {lo}-{hi - 1}) does not match the "
                             "checksum written at gather time (missing, truncated or overwritten); delete "
                             "the store and re-run to rebuild it")
    return ds


def has_positions(ds: xr.Dataset) -> bool:
    """Whether the store keeps all three positions' maps (``relevance[trial, position, y, x]``)."""
    return "position" in ds["relevance"].dims


def target_maps(relevance: np.ndarray, target_pos: np.ndarray) -> np.ndarray:
    """(n, H, W) target-position maps from a block of ``relevance`` of either layout."""
    if relevance.ndim == 3:
        return relevance
    return relevance[np.arange(len(relevance)), np.asarray(target_pos).astype(np.int64)]


def read_target_maps(ds: xr.Dataset, trials: slice | np.ndarray = slice(None)) -> np.ndarray:
    """(n, H, W) target-position maps of the given trials (a slice reads contiguously)."""
    rel = ds["relevance"][trials].to_numpy()
    return target_maps(rel, ds["target_pos"][trials].to_numpy())


def trial_heads(ds: xr.Dataset, trials: slice | np.ndarray = slice(None)) -> np.ndarray:
    """(n, 3) face ids at positions 0, 1, 2."""
    return np.stack([ds[c][trials].to_numpy() for c in HEAD_COORDS], axis=1).astype(np.int64)


def target_faces(ds: xr.Dataset, trials: slice | np.ndarray = slice(None)) -> np.ndarray:
    """(n,) id of the face at the target position of each trial."""
    heads = trial_heads(ds, trials)
    return heads[np.arange(len(heads)), ds["target_pos"][trials].to_numpy().astype(np.int64)]


def read_position_maps(ds: xr.Dataset, trials: slice | np.ndarray = slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """Every map the store keeps for the given trials: ``(maps (n, P, H, W), positions (n, P))``,
    P = 3 for an all-positions store, else 1 (the target position)."""
    rel = ds["relevance"][trials].to_numpy()
    if has_positions(ds):
        return rel, np.broadcast_to(np.arange(3), (len(rel), 3))
    return rel[:, None], ds["target_pos"][trials].to_numpy().astype(np.int64)[:, None]


def map_size(ds: xr.Dataset) -> tuple[int, int]:
    """(height, width) of the store's maps."""
    return tuple(int(s) for s in ds["relevance"].shape[-2:])


def chunk_trials(ds: xr.Dataset) -> int:
    """Trials per stored chunk: reading in these blocks touches each chunk once."""
    return int(ds.attrs["relevance_chunk_trials"])


def read_face_maps(path: Path | str, include_empty: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(face_ids, n_trials, maps (F, H, W)) of a ``*_faces.zarr`` store, for the faces that were
    the target at least once (the others' mean map is undefined and stored as NaN) or, with
    ``include_empty``, for every face in manifest order."""
    fs = open_zarr(path)
    n_trials = fs["n_trials"].to_numpy()
    keep = np.ones(len(n_trials), bool) if include_empty else n_trials > 0
    return fs["face_id"].to_numpy()[keep], n_trials[keep], fs["relevance"].to_numpy()[keep]
