"""The VLM run: sample held-out trials, build the requests, answer them in batches, record all.

Every request gets exactly one row, in request order, whatever happened to it (ARCHITECTURE:
nothing dropped or misaligned). Finished batches are kept under `parts_dir`, keyed by the
content of their requests and the backend settings, so a killed run resumes at the batch it was in.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from facesimxai.artifacts.heatmaps import open_heatmaps, read_target_maps, target_faces
from facesimxai.data.faces import load_faces
from facesimxai.data.sampling import sample_held_out
from facesimxai.io import write_parquet
from facesimxai.vlm.answers import parse_answer, region_names
from facesimxai.vlm.backends import Backend, Generation, make_backend
from facesimxai.vlm.images import face_image, heatmap_overlay
from facesimxai.vlm.prompts import ORDERS, VLMRequest, heatmap_request, odd_one_out_request
from facesimxai.vocabulary import REGIONS

log = logging.getLogger(__name__)
def _store_maps(store_path: Path | str, trial_ids: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """(trial_id, target_pos, target face) rows and the target-position maps of the trials the
    store holds, in the order of `trial_ids` (trials it does not hold are left out)."""
    store = open_heatmaps(store_path)
    index = pd.Index(store["trial_id"].to_numpy())
    pos = index.get_indexer(trial_ids)
    pos = pos[pos >= 0]
    sub = store.isel(trial=pos)
    rows = pd.DataFrame({"trial_id": sub["trial_id"].to_numpy(), "target_pos": sub["target_pos"].to_numpy().astype(int),
                         "target_face": target_faces(sub)})
    return rows, read_target_maps(sub)


def build_requests(sample: pd.DataFrame, faces: dict[int, np.ndarray], cfg: dict,
                   stores: dict[str, Path | str] | None = None) -> list[VLMRequest]:
    """Odd-one-out requests in `cfg["orders"]` presentation orders per trial, then the
    heatmap-reading requests for every model store given."""
    size, regions = int(cfg["image_size"]), list(REGIONS)
    images = {fid: face_image(rgb, size) for fid, rgb in faces.items()}
    requests = []
    for row in sample.itertuples():
        ids = (int(row.head1), int(row.head2), int(row.head3))
        missing = [f for f in ids if f not in images]
        if missing:
            raise ValueError(f"trial {row.trial_id}: face(s) {missing} are not in the face manifest")
        shown = tuple(images[f] for f in ids)
        requests += [odd_one_out_request(int(row.trial_id), ids, shown, order, regions)
                     for order in ORDERS[: int(cfg["orders"])]]
    for model, path in (stores or {}).items():
        rows, maps = _store_maps(path, sample["trial_id"].to_numpy())
        if len(rows) < len(sample):
            log.warning("%s: %d of %d sampled trials have no heatmap; they get no heatmap question",
                        model, len(sample) - len(rows), len(sample))
        for r, rel in zip(rows.itertuples(), maps, strict=True):
            overlay = heatmap_overlay(images[int(r.target_face)], rel)
            requests.append(heatmap_request(int(r.trial_id), model, int(r.target_pos), int(r.target_face), overlay,
                                            regions))
    return requests


def answer_rows(requests: list[VLMRequest], generations: list[Generation], backend: Backend) -> pd.DataFrame:
    """One record per request: what was asked (hash), of whom, what came back, and what it means."""
    if len(generations) != len(requests):
        raise RuntimeError(f"backend {backend.name} returned {len(generations)} answers for {len(requests)} requests")
    sampling = json.dumps(backend.sampling(), sort_keys=True)
    rows = []
    for req, gen in zip(requests, generations, strict=True):
        parsed = parse_answer(gen.text, req.schema)
        slot = odd_pos = odd_face = None
        regions: list[str] = []
        if parsed.valid:
            regions = region_names(parsed.fields.get("regions", []), list(REGIONS))
            if req.task == "odd_one_out":
                slot = int(parsed.fields["odd_one_out"])
                odd_pos = req.order[slot - 1]
                odd_face = req.faces[slot - 1]
        rows.append({"request_id": req.request_id, "task": req.task, "trial_id": req.trial_id, "model": req.model,
                     "order": "".join(map(str, req.order)), "faces": json.dumps(list(req.faces)),
                     "prompt_hash": req.prompt_hash, "vlm_model": backend.model_id, "vlm_revision": backend.revision,
                     "backend": backend.name, "sampling": sampling, "attempts": gen.attempts, "error": gen.error,
                     "seconds": gen.seconds, "raw_text": gen.text, "valid": parsed.valid,
                     "invalid_reason": parsed.reason, "repaired": parsed.repaired,
                     "answer_slot": slot, "odd_pos": odd_pos, "odd_face": odd_face, "regions": json.dumps(regions)})
    table = pd.DataFrame(rows)
    for col in ("answer_slot", "odd_pos", "odd_face"):
        table[col] = table[col].astype("Int64")
    return table


def batches(requests: list[VLMRequest], size: int) -> Iterator[list[VLMRequest]]:
    """Consecutive batches that never mix tasks (one answer schema per batch)."""
    batch: list[VLMRequest] = []
    for req in requests:
        if batch and (len(batch) == size or req.task != batch[0].task):
            yield batch
            batch = []
        batch.append(req)
    if batch:
        yield batch


def _batch_key(batch: list[VLMRequest], backend: Backend) -> str:
    h = hashlib.sha256(json.dumps([backend.name, backend.model_id, backend.revision, backend.sampling()]).encode())
    for req in batch:  # the id too: equal prompts of two trials must not share rows
        h.update(req.request_id.encode() + req.prompt_hash.encode())
    return h.hexdigest()[:20]


def answer_all(requests: list[VLMRequest], backend: Backend, batch_size: int,
               parts_dir: Path | str | None = None, progress: Callable = tqdm) -> pd.DataFrame:
    """Answer every request; finished batches are reused from `parts_dir` when present."""
    parts = Path(parts_dir) if parts_dir else None
    tables, reused = [], 0
    for batch in progress(list(batches(requests, batch_size)), desc="VLM batches", unit="batch"):
        part = parts / f"{_batch_key(batch, backend)}.parquet" if parts else None
        if part is not None and part.exists():
            tables.append(pd.read_parquet(part))
            reused += 1
            continue
        generations = backend.generate(batch)
        table = answer_rows(batch, generations, backend)
        if part is not None and all(g.text is not None for g in generations):
            write_parquet(table, part)  # a batch with failed requests is asked again next time
        tables.append(table)
    if reused:
        log.info("reused %d finished batches from %s", reused, parts)
    return pd.concat(tables, ignore_index=True) if tables else answer_rows([], [], backend)


def run_vlm(trials: Path | str, manifest: Path | str, cfg: dict, out: Path | str,
            stores: dict[str, Path | str] | None = None, parts_dir: Path | str | None = None,
            backend: Backend | None = None) -> pd.DataFrame:
    """The VLM stage: `out` (Parquet + CSV) gets one row per request."""
    sample = sample_held_out(pd.read_parquet(trials), list(cfg["splits"]), int(cfg["n_trials"]),
                             int(cfg["seed"]), "vlm.splits")
    manifest_table, images = load_faces(manifest)
    faces = dict(zip(manifest_table["face_id"].astype(int), images, strict=True))
    requests = build_requests(sample, faces, cfg, stores)
    log.info("%d requests (%d trials × %d orders, %d heatmap readings)", len(requests), len(sample),
             int(cfg["orders"]), sum(r.task == "heatmap" for r in requests))
    backend = backend or make_backend(cfg)
    table = answer_all(requests, backend, int(cfg["batch_size"]), parts_dir)
    if not table["request_id"].equals(pd.Series([r.request_id for r in requests], name="request_id")):
        raise RuntimeError("recorded answers are out of request order")
    if len(table) and table["raw_text"].isna().all():
        raise RuntimeError(f"vlm: every one of {len(table)} requests to the {backend.name} backend failed "
                           f"(first error: {table['error'].iloc[0]}); nothing written. Check config keys "
                           "vlm.model and vlm.openai.base_url")
    write_parquet(table, out, csv=True)
    log.info("%d answers, %d valid; invalid reasons: %s", len(table), int(table["valid"].sum()),
             table.loc[~table["valid"], "invalid_reason"].value_counts().head(5).to_dict())
    return table
