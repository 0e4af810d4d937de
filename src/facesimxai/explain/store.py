"""The heatmap store: scatter jobs write disjoint trial ranges, a gather job validates and
consolidates them into one chunked Zarr store per model and explainer.

``results/heatmaps/{model}/{explainer}.zarr`` (xarray, Zarr v3):
  relevance[trial, y, x] (target position) or relevance[trial, position, y, x] (all positions),
  float32 or float16, chunked along trial; logits[trial, position];
  coordinates trial_id, head1, head2, head3, target_pos, pred_pos, human_odd, split;
  attributes: explainer settings, engine, model checksums, config hash, package versions.
``results/heatmaps/{model}/{explainer}_faces.zarr``: relevance[face, y, x], the mean of the
  target-position maps over the trials in which the face is the target (the thesis's per-face
  maps), and n_trials[face].

A part is complete only when its marker JSON exists; the marker holds the part's trial range
and a checksum of its relevance array, which the gather step verifies, so a truncated or
corrupted part is named at gather time instead of being read silently.
"""

from __future__ import annotations

import json
import logging
import re
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import xarray as xr
from tqdm import tqdm

from facesimxai.data.faces import load_faces, trial_face_rows
from facesimxai.explain.engines import (
    OCCLUSION,
    ExplainSettings,
    TripletExplainer,
    choose_engine,
    select_positions,
)
from facesimxai.explain.integrity import StoreError, array_sha256, chunk_checksums
from facesimxai.explain.occlusion import OcclusionSettings, black_fill, occlusion_maps
from facesimxai.explain.triplet_function import from_triplet_model
from facesimxai.io import atomic_path, open_zarr, write_json
from facesimxai.models.backbone import file_sha256
from facesimxai.models.train import load_triplet_model
from facesimxai.models.vgg import preprocess
from facesimxai.torch_utils import resolve_device, seed_everything

log = logging.getLogger(__name__)


def parse_scatteritem(item: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d+)-of-(\d+)", item)
    if not m:
        raise ValueError(f"scatter item {item!r} is not of the form 'i-of-n'")
    return int(m.group(1)), int(m.group(2))


def trials_to_explain(trials: Path | str, splits: list[str]) -> pd.DataFrame:
    tr = pd.read_parquet(trials)
    return tr[tr["split"].isin(splits)].sort_values("trial_id").reset_index(drop=True)


def part_range(n_trials: int, part: int, n_parts: int) -> tuple[int, int]:
    """Disjoint, contiguous trial ranges covering all trials (part is 1-based)."""
    edges = np.linspace(0, n_trials, n_parts + 1).round().astype(int)
    return int(edges[part - 1]), int(edges[part])


def target_positions(trials: pd.DataFrame, target: str, maxp_targets: Path | str | None,
                     maxp_rule: str) -> np.ndarray | None:
    if target == "prediction":
        return None
    if target == "human":
        return trials["odd_pos"].to_numpy(np.int64)
    mt = pd.read_parquet(maxp_targets)
    merged = trials[["trial_id"]].merge(mt, on="trial_id", how="left", validate="1:1")
    return merged[f"maxp_{maxp_rule}_pos"].to_numpy(np.int64)


def explain_part(backbone: Path | str, head: Path | str, manifest: Path | str, trials: Path | str,
                 maxp_targets: Path | str | None, explainer: dict, explain_cfg: dict, maxp_rule: str,
                 scatteritem: str, device: str, threads: int, out: Path | str,
                 marker: Path | str) -> dict:
    """Explain one disjoint range of trials and write it as a part store plus its marker."""
    part, n_parts = parse_scatteritem(scatteritem)
    seed_everything(0, threads)
    settings = ExplainSettings(**explainer)
    dev = resolve_device(device)
    model, mode = load_triplet_model(backbone, head)
    table, images = load_faces(manifest)
    faces = preprocess(images, _input_size(backbone), mode)
    tr_all = trials_to_explain(trials, explain_cfg["splits"])
    lo, hi = part_range(len(tr_all), part, n_parts)
    tr = tr_all.iloc[lo:hi].reset_index(drop=True)
    heads = trial_face_rows(table["face_id"], tr)
    tpos = target_positions(tr, settings.target, maxp_targets, maxp_rule)
    n_faces = len(np.unique(heads)) if len(tr) else 0
    engine = choose_engine(explain_cfg["engine"], len(tr), n_faces, model.head.width, settings.method)
    t0 = time.perf_counter()
    extra = {}
    if engine == OCCLUSION:
        fn = from_triplet_model(model, dev, explain_cfg["batch_size"] * 3)
        occ = OcclusionSettings(**{k: v for k, v in (("patches", settings.patches), ("stride", settings.stride),
                                                     ("blur", settings.blur)) if v is not None})
        maps, logits, target, sim = occlusion_maps(fn, faces, heads, black_fill(faces.shape[-1], mode), occ, tpos,
                                                   settings.positions, progress=lambda x: tqdm(x, desc="occlusion"))
        if sim is not None:
            extra["similarity_drop"] = (("trial", "other", "y", "x"), sim.numpy().astype(np.float32))
    else:
        ex = TripletExplainer(model, settings, mode, dev, explain_cfg["batch_size"], explain_cfg["basis_batch"])
        maps, logits, target = _run_engine(ex, engine, faces, heads, tpos, settings.positions)
    seconds = time.perf_counter() - t0
    dtype = np.dtype(explain_cfg["dtype"])
    rel = maps.numpy().astype(dtype)
    dims = ("trial", "y", "x") if settings.positions == "target" else ("trial", "position", "y", "x")
    ds = xr.Dataset(
        {"relevance": (dims, rel), "logits": (("trial", "logit"), logits.numpy().astype(np.float32)), **extra},
        coords={
            "trial_id": ("trial", tr["trial_id"].to_numpy(np.int64)),
            "head1": ("trial", tr["head1"].to_numpy(np.int64)),
            "head2": ("trial", tr["head2"].to_numpy(np.int64)),
            "head3": ("trial", tr["head3"].to_numpy(np.int64)),
            "target_pos": ("trial", target.numpy().astype(np.int8)),
            "pred_pos": ("trial", logits.argmax(1).numpy().astype(np.int8)),
            "human_odd": ("trial", tr["odd_pos"].to_numpy(np.int8)),
            "split": ("trial", tr["split"].to_numpy(object)),
        },
        attrs={"part": part, "n_parts": n_parts, "trial_range": [lo, hi], "engine": engine},
    )
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)
    info = {"part": part, "n_parts": n_parts, "trial_range": [lo, hi], "n_trials": hi - lo,
            "engine": engine, "seconds": seconds, "relevance_sha256": array_sha256(rel),
            "shape": list(rel.shape), "dtype": str(dtype)}
    write_json(info, marker)
    log.info("part %d/%d: %d trials with the %s engine in %.1f s", part, n_parts, hi - lo, engine, seconds)
    return info


def _input_size(backbone: Path | str) -> int:
    return int(torch.load(backbone, map_location="cpu", weights_only=True)["input_size"])


def _run_engine(ex: TripletExplainer, engine: str, faces: torch.Tensor, heads: np.ndarray,
                target_pos, positions: str):
    if len(heads) == 0:
        h, w = faces.shape[-2:]
        shape = (0, h, w) if positions == "target" else (0, 3, h, w)
        return torch.zeros(shape), torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)
    if engine == "factorized":
        return ex.factorized(faces, heads, target_pos, positions)
    run = ex.naive if engine == "naive" else ex.direct
    maps, logits, target = [], [], []
    step = 256  # bound memory: triplet pixels for this many trials at a time
    for s in tqdm(range(0, len(heads), step), desc=f"{engine} LRP", leave=False):
        tp = None if target_pos is None else target_pos[s:s + step]
        m, lg, tg = run(faces[torch.from_numpy(heads[s:s + step])], tp)
        maps.append(select_positions(m, tg) if positions == "target" else m)
        logits.append(lg)
        target.append(tg)
    return torch.cat(maps), torch.cat(logits), torch.cat(target)


def _validate_part(path: Path, marker: Path) -> xr.Dataset:
    try:
        info = json.loads(Path(marker).read_text())
        ds = open_zarr(path)
        rel = ds["relevance"].to_numpy()
    except Exception as exc:
        raise StoreError(f"heatmap part {path} cannot be read ({type(exc).__name__}: {exc}); "
                         "delete it and its marker and re-run") from exc
    if list(rel.shape) != info["shape"] or array_sha256(rel) != info["relevance_sha256"]:
        raise StoreError(f"heatmap part {path} does not match its marker {marker} (shape or checksum); "
                         "it is truncated or corrupted: delete it and its marker and re-run")
    if not np.isfinite(rel.astype(np.float32)).all():
        raise StoreError(f"heatmap part {path} contains NaN or infinite relevance")
    return ds.load()


def gather_heatmaps(parts: list[str], markers: list[str], backbone: Path | str, head: Path | str,
                    manifest: Path | str, explainer: dict, explain_cfg: dict, config_hash: str,
                    out: Path | str, faces_out: Path | str) -> xr.Dataset:
    """Validate the parts, concatenate them in trial order and write the store and face maps."""
    datasets = [_validate_part(Path(p), Path(m)) for p, m in zip(parts, markers, strict=True)]
    datasets.sort(key=lambda d: d.attrs["part"])
    n_parts = datasets[0].attrs["n_parts"]
    if [d.attrs["part"] for d in datasets] != list(range(1, n_parts + 1)):
        raise StoreError(f"heatmap parts are incomplete: have {[d.attrs['part'] for d in datasets]} of {n_parts}")
    for prev, nxt in zip(datasets, datasets[1:], strict=False):
        if prev.attrs["trial_range"][1] != nxt.attrs["trial_range"][0]:
            raise StoreError("heatmap parts do not tile the trial range: "
                             f"{prev.attrs['trial_range']} then {nxt.attrs['trial_range']}")
    ds = xr.concat(datasets, dim="trial", combine_attrs="drop")
    if ds.sizes["trial"] and float(np.abs(ds["relevance"]).max()) == 0:
        raise StoreError(f"every relevance map for {out} is zero: the model's decision does not depend on "
                         "its input (a dead decision block?); check the head's training metrics")
    engines = sorted({d.attrs["engine"] for d in datasets})
    ds.attrs = {
        "explainer": json.dumps(explainer, sort_keys=True),
        "engine": ",".join(engines),
        "backbone_sha256": file_sha256(backbone),
        "head_sha256": file_sha256(head),
        "config_hash": config_hash,
        "versions": json.dumps({p: version(p) for p in ("facesimxai", "torch", "zennit", "zarr", "xarray")}),
        "convention": "relevance summed over colour channels; positive = evidence for the target",
    }
    chunk = min(explain_cfg["chunk_trials"], max(1, ds.sizes["trial"]))
    ds["relevance"].encoding["chunks"] = (chunk, *ds["relevance"].shape[1:])
    ds.attrs.update(chunk_checksums(ds["relevance"].to_numpy(), chunk))
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=True)
    face_maps = per_face_maps(ds, pd.read_parquet(manifest)["face_id"].to_numpy())
    face_maps.attrs = {k: v for k, v in ds.attrs.items() if not k.startswith("relevance_chunk")}
    with atomic_path(faces_out) as tmp:
        face_maps.to_zarr(tmp, mode="w", consolidated=True)
    log.info("heatmap store: %d trials, relevance %s %s, engines %s", ds.sizes["trial"],
             ds["relevance"].dtype, tuple(ds["relevance"].shape), ",".join(engines))
    return ds


def per_face_maps(ds: xr.Dataset, face_ids: np.ndarray) -> xr.Dataset:
    """Mean target-position map over the trials in which each face is the target."""
    heads = np.stack([ds[c].to_numpy() for c in ("head1", "head2", "head3")], axis=1)
    target_face = heads[np.arange(len(heads)), ds["target_pos"].to_numpy().astype(int)]
    rel = ds["relevance"]
    if "position" in rel.dims:
        rel = rel.isel(position=xr.DataArray(ds["target_pos"].to_numpy().astype(int), dims="trial"))
    rel = rel.to_numpy().astype(np.float64)
    h, w = rel.shape[-2:]
    sums = np.zeros((len(face_ids), h, w))
    counts = np.zeros(len(face_ids), np.int64)
    index = {int(f): i for i, f in enumerate(face_ids)}
    for f in np.unique(target_face):
        rows = target_face == f
        sums[index[int(f)]] = rel[rows].sum(axis=0)
        counts[index[int(f)]] = rows.sum()
    mean = np.where(counts[:, None, None] > 0, sums / np.maximum(counts, 1)[:, None, None], np.nan)
    return xr.Dataset({"relevance": (("face", "y", "x"), mean.astype(np.float32)),
                       "n_trials": ("face", counts)},
                      coords={"face_id": ("face", np.asarray(face_ids, np.int64))})
