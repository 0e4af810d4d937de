"""Write the explorer: data files (JavaScript, so the app opens from disk without a server),
overlay PNGs for the selected trials and face averages, and the static HTML/JS app.

Data are `.js` files that call `FSX.*(...)` rather than JSON fetched at run time: browsers refuse
`fetch()` of `file://` URLs, but load `<script src>` from disk. The trial table is split into
chunks the app loads one after another; images load only when a viewer page shows them.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from facesimxai.artifacts import heatmaps
from facesimxai.artifacts.heatmaps import map_size, open_heatmaps, read_face_maps, read_position_maps
from facesimxai.artifacts.region_tables import ranked_shares, target_rows
from facesimxai.explorer.pairs import write_pair_pages
from facesimxai.explorer.table import select_for_viewer, trial_table
from facesimxai.io import atomic_path
from facesimxai.plotting import CMAP, write_overlay
from facesimxai.vocabulary import display_name

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
TABLE_COLUMNS = ["trial_id", "head1", "head2", "head3", "human", "split"]


def _js(call: str, payload) -> str:
    return f"{call}({json.dumps(payload, separators=(',', ':'), allow_nan=False)});\n"


def _clean(value):
    """JSON-safe scalars: numpy types to Python, NaN to null."""
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else round(float(value), 4)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _region_shares(path: Path | None, trial_ids: list[int]) -> dict[int, list]:
    """trial → [[region, signed share], ...] of the target face, largest |share| first."""
    if path is None or not Path(path).exists():
        return {}
    df = target_rows(pd.read_parquet(path, columns=["trial_id", "position", "target_pos", "region", "share"]))
    df = df[df["trial_id"].isin(trial_ids)]
    return {int(tid): ranked_shares(group) for tid, group in df.groupby("trial_id", sort=False)}


def build_explorer(stores: dict[tuple[str, str], Path | str], face_stores: dict[tuple[str, str], Path | str],
                   region_tables: dict[tuple[str, str], Path | str], manifest: Path | str, out: Path | str,
                   max_trials: int = 300, chunk_rows: int = 5000, vlm: Path | str | None = None,
                   confidence: Path | str | None = None, explanations: Path | str | None = None,
                   verification: dict | None = None) -> dict:
    """Build the explorer into `out` (written beside it, moved into place only when complete:
    never half a site); ``verification`` (scores, faces, xmaps, regions, sentences files) adds
    the pair pages."""
    opened = {key: open_heatmaps(path) for key, path in stores.items()}
    models = list(dict.fromkeys(m for m, _ in opened))
    explainers = list(dict.fromkeys(e for _, e in opened))
    table, columns, calibrated = _trial_table(opened, models, vlm, confidence)
    viewer = select_for_viewer(table, models, max_trials)
    with atomic_path(out) as site:
        (site / "data" / "trial").mkdir(parents=True)
        chunks = _write_chunks(site, table, columns, chunk_rows)
        maps = _write_overlays(site, opened, stores, region_tables, viewer)
        _write_trial_pages(site, table, viewer, models, calibrated, _sentences(explanations), maps)
        faces = _write_faces(site, pd.read_parquet(manifest), Path(manifest).parent, face_stores)
        pairs = write_pair_pages(site, verification)
        meta = {"models": models, "model_names": {m: display_name(m) for m in models}, "explainers": explainers,
                "columns": columns, "n_trials": len(table), "chunks": chunks, "viewer": sorted(viewer),
                "faces": faces, "pairs": pairs, "cmap": CMAP, "map_size": list(map_size(next(iter(opened.values()))))}
        (site / "data" / "meta.js").write_text(_js("FSX.setMeta", meta))
        for asset in STATIC.iterdir():
            shutil.copy2(asset, site / asset.name)
    log.info("explorer: %d trials in %d chunks, %d with overlays, %d faces -> %s", len(table), len(chunks),
             len(viewer), len(faces), out)
    return meta


def _trial_table(opened: dict, models: list[str], vlm: Path | str | None,
                 confidence: Path | str | None) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Every trial with each model's prediction, its calibrated confidence where there is one and
    the VLM's answer; the table's columns; the models with calibrated confidence."""
    vlm_pred = None
    if vlm is not None:  # vlm/comparison.parquet: the VLM's identity-order answer, NA when invalid
        vlm_pred = pd.read_parquet(vlm, columns=["trial_id", "vlm"]).rename(columns={"vlm": "vlm_pred"})
        vlm_pred = vlm_pred.astype({"vlm_pred": float})
    table = trial_table({m: next(ds for (mm, _), ds in opened.items() if mm == m) for m in models}, vlm_pred)
    calibrated = []
    if confidence is not None:
        conf = pd.read_parquet(confidence, columns=["trial_id", "model", "confidence"])
        for m in models:
            cal = conf[conf["model"] == m][["trial_id", "confidence"]].rename(columns={"confidence": f"{m}_cal"})
            table = table.merge(cal, on="trial_id", how="left", validate="1:1")
            calibrated.append(m)
    columns = TABLE_COLUMNS + [c for m in models for c in (f"{m}_pred", f"{m}_conf")
                               + ((f"{m}_cal",) if m in calibrated else ())] + ["vlm_pred"]
    return table, columns, calibrated


def _sentences(explanations: Path | str | None) -> dict[int, list[str]]:
    sentences: dict[int, list[str]] = {}
    if explanations is not None:
        for r in pd.read_parquet(explanations, columns=["trial_id", "sentence"]).itertuples():
            sentences.setdefault(int(r.trial_id), []).append(r.sentence)
    return sentences


def _write_chunks(site: Path, table: pd.DataFrame, columns: list[str], chunk_rows: int) -> list[str]:
    """The trial table as script chunks the app loads one after another."""
    chunks = []
    for i, start in enumerate(range(0, max(len(table), 1), chunk_rows)):
        rows = [[_clean(v) for v in row] for row in table[columns].iloc[start:start + chunk_rows].itertuples(False)]
        name = f"trials_{i:04d}.js"
        (site / "data" / name).write_text(_js("FSX.addTrials", rows))
        chunks.append(name)
    return chunks


def _write_overlays(site: Path, opened: dict, stores: dict, region_tables: dict,
                    viewer: list[int]) -> dict[int, list]:
    """Overlay PNGs of every stored map of the viewer's trials; trial → its map entries."""
    maps: dict[int, list] = {t: [] for t in viewer}
    for (model, explainer), ds in tqdm(opened.items(), desc="overlays", unit="store"):
        coords = heatmaps.trial_table(ds)
        index = pd.Series(np.arange(len(coords)), index=coords["trial_id"].to_numpy())
        missing = sorted(set(viewer) - set(index.index))
        if missing:
            raise ValueError(f"{stores[(model, explainer)]} lacks {len(missing)} trials the other stores hold "
                             f"(first: {missing[:5]}); the stores were built from different trial sets")
        rows = np.sort(index.loc[viewer].to_numpy())
        rel, positions = read_position_maps(ds, rows)
        ids = coords["trial_id"].to_numpy()[rows]
        target = coords["target_pos"].to_numpy()[rows]
        shares = _region_shares(region_tables.get((model, explainer)), viewer)
        folder = site / "img" / "overlays" / model / explainer
        folder.mkdir(parents=True, exist_ok=True)
        for k, tid in enumerate(ids):
            entry = {"model": model, "explainer": explainer, "target": int(target[k]), "overlays": {},
                     "regions": shares.get(int(tid), [])}
            for j, pos in enumerate(positions[k].tolist()):
                name = f"{tid}_{pos}.png"
                limit = write_overlay(rel[k, j], folder / name)
                entry["overlays"][pos] = {"src": f"img/overlays/{model}/{explainer}/{name}", "limit": limit}
            maps[int(tid)].append(entry)
    return maps


def _write_trial_pages(site: Path, table: pd.DataFrame, viewer: list[int], models: list[str],
                       calibrated: list[str], sentences: dict[int, list[str]], maps: dict[int, list]) -> None:
    """One data file per viewer trial: faces, decisions, sentences, maps, neighbours, repeats."""
    by_id = table.set_index("trial_id")
    triplet_key = table.assign(key=table[["head1", "head2", "head3"]].apply(lambda r: tuple(sorted(r)), axis=1))
    same = triplet_key[triplet_key["trial_id"].isin(viewer)].groupby("key")["trial_id"].apply(list).to_dict()
    for i, tid in enumerate(viewer):
        row = by_id.loc[tid]
        heads = [int(row[f"head{p}"]) for p in (1, 2, 3)]
        payload = {"trial_id": tid, "heads": heads, "human": int(row["human"]), "split": row["split"],
                   "models": {m: {"pred": int(row[f"{m}_pred"]), "conf": _clean(row[f"{m}_conf"]),
                                  "cal": _clean(row[f"{m}_cal"]) if m in calibrated else None} for m in models},
                   "sentences": sentences.get(tid, []),
                   "vlm_pred": _clean(row["vlm_pred"]), "maps": maps[tid],
                   "prev": viewer[i - 1] if i else None, "next": viewer[i + 1] if i + 1 < len(viewer) else None,
                   "same_triplet": [t for t in same[tuple(sorted(heads))] if t != tid]}
        (site / "data" / "trial" / f"{tid}.js").write_text(_js("FSX.setTrial", payload))


def _write_faces(tmp: Path, manifest: pd.DataFrame, faces_dir: Path,
                 face_stores: dict[tuple[str, str], Path | str]) -> list[dict]:
    """Face images and, per model × explainer, the face's average map as an overlay."""
    folder = tmp / "img" / "faces"
    folder.mkdir(parents=True, exist_ok=True)
    faces = {int(r.face_id): {"face_id": int(r.face_id), "src": f"img/faces/{int(r.face_id)}.png", "maps": []}
             for r in manifest.itertuples()}
    for r in manifest.itertuples():
        shutil.copy2(faces_dir / r.file, folder / f"{int(r.face_id)}.png")
    for (model, explainer), path in face_stores.items():
        for face_id, n_trials, face_map in zip(*read_face_maps(path), strict=True):
            name = f"{model}_{explainer}_{int(face_id)}.png"
            limit = write_overlay(face_map, folder / name)
            faces[int(face_id)]["maps"].append({"model": model, "explainer": explainer, "src": f"img/faces/{name}",
                                                "limit": limit, "n_trials": int(n_trials)})
    return list(faces.values())
