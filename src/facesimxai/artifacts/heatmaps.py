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

The explain stage writes through this module too: ``part_dataset`` lays out one scatter part,
``write_part``/``read_part`` store and verify it with its marker, ``assemble_store`` checks and
concatenates the parts, ``write_store`` chunks and checksums the result and ``face_maps`` derives
the per-face store. Every stage opens stores with ``open_heatmaps`` and asks this module which map
or face is the target (``read_target_maps``, ``target_faces``, ``trial_table``), so the layout is
spelled out here only; an explainer's extra outputs (occlusion's ``similarity_drop``) pass
through ``part_dataset(extra_vars=...)`` without this module naming them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from facesimxai.errors import InputError
from facesimxai.io import atomic_path, open_zarr, write_json

#: Per-trial coordinates of every store; latent outputs copy them so each point traces back.
TRIAL_COORDS = ("trial_id", "head1", "head2", "head3", "target_pos", "pred_pos", "human_odd", "split")
HEAD_COORDS = ("head1", "head2", "head3")
RELEVANCE = "relevance"


class StoreError(InputError):
    """A heatmap part or store that fails validation; the message names it."""


def part_dataset(relevance: np.ndarray, logits: np.ndarray, target_pos: np.ndarray, trials: pd.DataFrame, *,
                 part: int, n_parts: int, trial_range: tuple[int, int], engine: str,
                 extra_vars: dict | None = None, extra_coords: dict | None = None) -> xr.Dataset:
    """One scatter part in the store's layout.

    ``relevance`` is (n, H, W) target maps or (n, 3, H, W) maps of all positions; ``trials`` holds
    the part's rows of ``judgments/trials.parquet`` (trial_id, head1-3, odd_pos, split);
    ``extra_vars``/``extra_coords`` are an explainer's own outputs, stored alongside unchanged.
    """
    dims = ("trial", "y", "x") if relevance.ndim == 3 else ("trial", "position", "y", "x")
    logits = np.asarray(logits, np.float32).reshape(len(relevance), 3)
    return xr.Dataset(
        {RELEVANCE: (dims, relevance), "logits": (("trial", "logit"), logits), **(extra_vars or {})},
        coords={
            "trial_id": ("trial", trials["trial_id"].to_numpy(np.int64)),
            **{c: ("trial", trials[c].to_numpy(np.int64)) for c in HEAD_COORDS},
            "target_pos": ("trial", np.asarray(target_pos).astype(np.int8)),
            "pred_pos": ("trial", logits.argmax(1).astype(np.int8)),
            "human_odd": ("trial", trials["odd_pos"].to_numpy(np.int8)),
            "split": ("trial", trials["split"].to_numpy(object)),
            **(extra_coords or {}),
        },
        attrs={"part": part, "n_parts": n_parts, "trial_range": list(trial_range), "engine": engine},
    )


def write_part(ds: xr.Dataset, out: Path | str, marker: Path | str, seconds: float = float("nan")) -> dict:
    """Write one part store, then its marker (trial range, shape and relevance checksum): the
    marker is written last, so a part without one is incomplete (``read_part`` checks both)."""
    rel = ds[RELEVANCE].to_numpy()
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    lo, hi = ds.attrs["trial_range"]
    info = {"part": ds.attrs["part"], "n_parts": ds.attrs["n_parts"], "trial_range": [lo, hi], "n_trials": hi - lo,
            "engine": ds.attrs["engine"], "seconds": seconds, "relevance_sha256": array_sha256(rel),
            "shape": list(rel.shape), "dtype": str(rel.dtype)}
    write_json(info, marker)
    return info


def read_part(path: Path | str, marker: Path | str) -> xr.Dataset:
    """A part loaded into memory after checking it against its marker and for non-finite values."""
    try:
        info = json.loads(Path(marker).read_text())
        ds = open_zarr(path)
        rel = ds[RELEVANCE].to_numpy()
    except Exception as exc:
        raise StoreError(f"heatmap part {path} cannot be read ({type(exc).__name__}: {exc}); "
                         "delete it and its marker and re-run") from exc
    if list(rel.shape) != info["shape"] or array_sha256(rel) != info["relevance_sha256"]:
        raise StoreError(f"heatmap part {path} does not match its marker {marker} (shape or checksum); "
                         "it is truncated or corrupted: delete it and its marker and re-run")
    if not np.isfinite(rel.astype(np.float32)).all():
        raise StoreError(f"heatmap part {path} contains NaN or infinite relevance")
    return ds.load()


def assemble_store(parts: list[xr.Dataset], out: Path | str) -> xr.Dataset:
    """The parts in trial order as one dataset, refused when they are incomplete, do not tile the
    trial range, or hold only zero maps (``out`` names the store in the message)."""
    parts = sorted(parts, key=lambda d: d.attrs["part"])
    n_parts = parts[0].attrs["n_parts"]
    if [d.attrs["part"] for d in parts] != list(range(1, n_parts + 1)):
        raise StoreError(f"heatmap parts are incomplete: have {[d.attrs['part'] for d in parts]} of {n_parts}")
    for prev, nxt in zip(parts, parts[1:], strict=False):
        if prev.attrs["trial_range"][1] != nxt.attrs["trial_range"][0]:
            raise StoreError("heatmap parts do not tile the trial range: "
                             f"{prev.attrs['trial_range']} then {nxt.attrs['trial_range']}")
    ds = xr.concat(parts, dim="trial", combine_attrs="drop")
    if ds.sizes["trial"] and float(np.abs(ds[RELEVANCE]).max()) == 0:
        raise StoreError(f"every relevance map for {out} is zero: the model's decision does not depend on "
                         "its input (a dead decision block?); check the head's training metrics")
    return ds


def write_store(ds: xr.Dataset, out: Path | str, attrs: dict, chunk_trials: int) -> None:
    """Write the store chunked along trial, with ``attrs`` and one checksum per chunk."""
    chunk = min(chunk_trials, max(1, ds.sizes["trial"]))
    ds.attrs = {**attrs, **chunk_checksums(ds[RELEVANCE].to_numpy(), chunk)}
    ds[RELEVANCE].encoding["chunks"] = (chunk, *ds[RELEVANCE].shape[1:])
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=True)


def face_maps(ds: xr.Dataset, face_ids: np.ndarray) -> xr.Dataset:
    """The ``*_faces.zarr`` store: mean target map over the trials in which each face is the
    target (NaN for a face that never is), with the store's attributes less its checksums."""
    target_face = target_faces(ds)
    rel = read_target_maps(ds).astype(np.float64)
    h, w = rel.shape[-2:]
    sums = np.zeros((len(face_ids), h, w))
    counts = np.zeros(len(face_ids), np.int64)
    index = {int(f): i for i, f in enumerate(face_ids)}
    for f in np.unique(target_face):
        rows = target_face == f
        sums[index[int(f)]] = rel[rows].sum(axis=0)
        counts[index[int(f)]] = rows.sum()
    mean = np.where(counts[:, None, None] > 0, sums / np.maximum(counts, 1)[:, None, None], np.nan)
    return xr.Dataset({RELEVANCE: (("face", "y", "x"), mean.astype(np.float32)), "n_trials": ("face", counts)},
                      coords={"face_id": ("face", np.asarray(face_ids, np.int64))},
                      attrs={k: v for k, v in ds.attrs.items() if not k.startswith("relevance_chunk")})


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
    meta = zarr.open_array(Path(path) / RELEVANCE, mode="r").metadata
    for i, want in enumerate(sums):
        lo, hi = i * chunk, min((i + 1) * chunk, n)
        key = Path(path) / RELEVANCE / meta.encode_chunk_key((i, *[0] * (ds[RELEVANCE].ndim - 1)))
        try:
            got = array_sha256(ds[RELEVANCE][lo:hi].to_numpy())
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
    return "position" in ds[RELEVANCE].dims


def target_maps(relevance: np.ndarray, target_pos: np.ndarray) -> np.ndarray:
    """(n, H, W) target-position maps from a block of ``relevance`` of either layout."""
    if relevance.ndim == 3:
        return relevance
    return relevance[np.arange(len(relevance)), np.asarray(target_pos).astype(np.int64)]


def read_target_maps(ds: xr.Dataset, trials: slice | np.ndarray = slice(None)) -> np.ndarray:
    """(n, H, W) target-position maps of the given trials (a slice reads contiguously)."""
    rel = ds[RELEVANCE][trials].to_numpy()
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
    rel = ds[RELEVANCE][trials].to_numpy()
    if has_positions(ds):
        return rel, np.broadcast_to(np.arange(3), (len(rel), 3))
    return rel[:, None], ds["target_pos"][trials].to_numpy().astype(np.int64)[:, None]


def trial_table(ds: xr.Dataset, trials: slice | np.ndarray = slice(None)) -> pd.DataFrame:
    """The store's per-trial coordinates (``TRIAL_COORDS``) as a table, one row per stored trial."""
    return pd.DataFrame({c: ds[c][trials].to_numpy() for c in TRIAL_COORDS})


def read_logits(ds: xr.Dataset, trials: slice | np.ndarray = slice(None)) -> np.ndarray:
    """(n, 3) float64 logits of the explained model for the given trials."""
    return ds["logits"][trials].to_numpy().astype(np.float64)


def map_size(ds: xr.Dataset) -> tuple[int, int]:
    """(height, width) of the store's maps."""
    return tuple(int(s) for s in ds[RELEVANCE].shape[-2:])


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
    return fs["face_id"].to_numpy()[keep], n_trials[keep], fs[RELEVANCE].to_numpy()[keep]
