"""Canonical triplet ids and train/val/test splits.

A triplet {a < b < c} of 1-based face ids has the canonical index
``C(a-1, 1) + C(b-1, 2) + C(c-1, 3)`` (the colexicographic rank). It is dense in
``[0, C(n, 3))``, does not depend on n (adding faces keeps old ids), and can be inverted, so
all C(n, 3) triplets can be enumerated chunk by chunk without materialising them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from math import comb
from pathlib import Path

import numpy as np
import pandas as pd

from facesimxai.io import write_json, write_parquet

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def n_triplets(n_faces: int) -> int:
    return comb(n_faces, 3)


def _c2(x):
    return x * (x - 1) // 2


def _c3(x):
    return x * (x - 1) * (x - 2) // 6


def rank_triplets(h1, h2, h3) -> np.ndarray:
    """Canonical index of each triplet of 1-based face ids (any order, must be distinct)."""
    s = np.sort(np.stack([np.asarray(h, np.int64) for h in (h1, h2, h3)], axis=-1), axis=-1) - 1
    if np.any(s[..., 0] < 0) or np.any(np.diff(s, axis=-1) == 0):
        raise ValueError("triplets need three distinct face ids >= 1")
    return s[..., 0] + _c2(s[..., 1]) + _c3(s[..., 2])


def unrank_triplets(index, n_faces: int | None = None) -> np.ndarray:
    """Inverse of ``rank_triplets``: (m, 3) sorted 1-based face ids."""
    r = np.asarray(index, np.int64).ravel()
    top = int(n_faces) if n_faces is not None else int(np.ceil(np.cbrt(6 * (r.max() + 1)))) + 3
    k = np.arange(top + 1, dtype=np.int64)
    if n_faces is not None and np.any((r < 0) | (r >= _c3(top))):
        raise ValueError(f"triplet index outside [0, C({n_faces}, 3))")
    c = np.searchsorted(_c3(k), r, side="right") - 1
    r = r - _c3(c)
    b = np.searchsorted(_c2(k), r, side="right") - 1
    a = r - _c2(b)
    return np.stack([a, b, c], axis=1) + 1


def iter_triplets(n_faces: int, chunk: int = 100_000) -> Iterator[np.ndarray]:
    """All C(n, 3) triplets in canonical order, ``chunk`` at a time."""
    total = n_triplets(n_faces)
    for start in range(0, total, chunk):
        yield unrank_triplets(np.arange(start, min(start + chunk, total)), n_faces)


def add_triplet_columns(trials: pd.DataFrame) -> pd.DataFrame:
    """Add trial_id, triplet_index, odd_pos (0/1/2 = head1/2/3) and odd_face to cleaned trials."""
    heads = trials[["head1", "head2", "head3"]].to_numpy(np.int64)
    odd = trials["head_odd"].to_numpy(np.int64)
    match = heads == odd[:, None]
    if not np.all(match.sum(axis=1) == 1):
        bad = int(np.flatnonzero(match.sum(axis=1) != 1)[0])
        raise ValueError(f"trial {bad}: head_odd {odd[bad]} is not exactly one of {heads[bad]}")
    out = trials.reset_index(drop=True).copy()
    out.insert(0, "trial_id", np.arange(len(out), dtype=np.int64))
    out["triplet_index"] = rank_triplets(heads[:, 0], heads[:, 1], heads[:, 2])
    out["odd_pos"] = match.argmax(axis=1).astype(np.int8)
    out["odd_face"] = odd
    return out


def random_split(n_trials: int, fractions: dict[str, float], seed: int) -> np.ndarray:
    """FaceSim3D's split: a seeded random partition of trials (faces are not held out)."""
    order = np.random.default_rng(seed).permutation(n_trials)
    n_train = int(round(fractions["train"] * n_trials))
    n_val = int(round(fractions["val"] * n_trials))
    labels = np.empty(n_trials, dtype=object)
    labels[order[:n_train]] = "train"
    labels[order[n_train:n_train + n_val]] = "val"
    labels[order[n_train + n_val:]] = "test"
    return labels


def face_disjoint_split(heads: np.ndarray, face_ids: np.ndarray, fractions: dict[str, float],
                        seed: int) -> tuple[np.ndarray, dict[str, list[int]]]:
    """Hold out faces: train trials contain only train faces.

    Faces are partitioned by ``fractions``. A trial is ``train`` if all its faces are train
    faces, ``val`` if it contains a val face and no test face, ``test`` if it contains a test
    face and no val face, and ``excluded`` if it contains both.
    """
    faces = np.random.default_rng(seed).permutation(np.asarray(face_ids))
    n = len(faces)
    n_val = max(1, int(round(fractions["val"] * n)))
    n_test = max(1, int(round(fractions["test"] * n)))
    if n - n_val - n_test < 3:
        raise ValueError(f"face-disjoint split needs at least 3 train faces; {n} faces are too few")
    sets = {"val": faces[:n_val], "test": faces[n_val:n_val + n_test],
            "train": faces[n_val + n_test:]}
    has_val = np.isin(heads, sets["val"]).any(axis=1)
    has_test = np.isin(heads, sets["test"]).any(axis=1)
    labels = np.where(has_val & has_test, "excluded",
                      np.where(has_val, "val", np.where(has_test, "test", "train"))).astype(object)
    return labels, {k: sorted(int(f) for f in v) for k, v in sets.items()}


def triplet_table(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per judged triplet: its faces, how often it was judged and each face chosen."""
    faces = unrank_triplets(trials["triplet_index"].to_numpy())
    chosen = faces == trials["odd_face"].to_numpy()[:, None]
    df = pd.DataFrame({"triplet_index": trials["triplet_index"].to_numpy(),
                       "n_odd_a": chosen[:, 0], "n_odd_b": chosen[:, 1], "n_odd_c": chosen[:, 2]})
    agg = df.groupby("triplet_index", sort=True).agg(
        n_trials=("n_odd_a", "size"), n_odd_a=("n_odd_a", "sum"),
        n_odd_b=("n_odd_b", "sum"), n_odd_c=("n_odd_c", "sum")).reset_index()
    abc = unrank_triplets(agg["triplet_index"].to_numpy())
    agg.insert(1, "face_a", abc[:, 0])
    agg.insert(2, "face_b", abc[:, 1])
    agg.insert(3, "face_c", abc[:, 2])
    counts = agg[["n_odd_a", "n_odd_b", "n_odd_c"]].to_numpy()
    agg["consensus_odd"] = abc[np.arange(len(agg)), counts.argmax(axis=1)]
    agg["consistency"] = counts.max(axis=1) / agg["n_trials"]
    return agg


def drop_faces(trials: pd.DataFrame, dropped: Sequence[int]) -> pd.DataFrame:
    """Remove every trial that shows one of the ``dropped`` faces (e.g. no face mesh found)."""
    shows = trials[["head1", "head2", "head3"]].isin(list(dropped)).any(axis=1)
    return trials.loc[~shows].reset_index(drop=True)


def _n_distinct(trials: pd.DataFrame) -> int:
    if trials.empty:
        return 0
    return len(np.unique(rank_triplets(trials["head1"], trials["head2"], trials["head3"])))


def build_triplets(cleaned: Path | str, manifest: Path | str, cfg: dict, trials_out: Path | str,
                   triplets_out: Path | str, summary_out: Path | str,
                   keep_faces: Path | str | None = None) -> pd.DataFrame:
    """Join cleaned trials to canonical triplet ids and assign splits (config ``splits``).

    ``keep_faces`` is the landmarks stage's ``faces_kept.json``: trials showing a dropped face
    are removed before ids and splits are assigned, so trial ids stay dense and no split holds
    a face without regions.
    """
    trials = pd.read_parquet(cleaned)
    face_ids = pd.read_parquet(manifest)["face_id"].to_numpy()
    summary: dict = {"method": cfg["method"], "seed": cfg["seed"], "fractions": cfg["fractions"]}
    if keep_faces is not None:
        dropped = sorted(int(f) for f in json.loads(Path(keep_faces).read_text())["dropped"])
        before = trials
        trials = drop_faces(trials, dropped)
        face_ids = face_ids[~np.isin(face_ids, dropped)]
        summary["dropped_faces"] = dropped
        summary["n_trials_dropped_with_faces"] = len(before) - len(trials)
        summary["n_triplets_dropped_with_faces"] = _n_distinct(before) - _n_distinct(trials)
        if dropped:
            log.warning("%d faces without a face mesh dropped (%s): %d trials over %d triplets removed",
                        len(dropped), ", ".join(map(str, dropped)),
                        summary["n_trials_dropped_with_faces"], summary["n_triplets_dropped_with_faces"])
        if trials.empty:
            raise ValueError(f"no trials left after dropping faces {dropped} (no face mesh found)")
    trials = add_triplet_columns(trials)
    heads = trials[["head1", "head2", "head3"]].to_numpy()
    if cfg["method"] == "random":
        trials["split"] = random_split(len(trials), cfg["fractions"], cfg["seed"])
    else:
        trials["split"], summary["faces"] = face_disjoint_split(
            heads, face_ids, cfg["fractions"], cfg["seed"])
    trials["split"] = trials["split"].astype(str)
    summary["n_trials"] = trials["split"].value_counts().reindex(
        [*SPLITS, "excluded"], fill_value=0).to_dict()
    summary["n_faces"] = len(face_ids)
    summary["n_possible_triplets"] = n_triplets(len(face_ids))
    table = triplet_table(trials)
    summary["n_judged_triplets"] = len(table)
    write_parquet(trials, trials_out)
    write_parquet(table, triplets_out, csv=False)
    write_json(summary, summary_out)
    log.info("%d trials over %d triplets; splits %s", len(trials), len(table), summary["n_trials"])
    return trials
