"""Verification pairs: drawn from synthetic identities the backbone never saw, or read from an
LFW-style ``pairs.txt``.

LFW's ``pairs.txt`` starts with ``<sets> <pairs per set>`` (``pairsDevTrain.txt``: just
``<pairs>``, one set); each set then lists that many matched lines ``name n1 n2`` followed by as
many mismatched lines ``name1 n1 name2 n2`` (tab-separated; image ``name/name_<n:04d>.jpg``). The
set index is the fold. Any other line stops the reading with the file and line number.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from tqdm import tqdm

from facesimxai.data.faces import FaceInputError, load_face_image
from facesimxai.data.synthetic import Augmentation, pretrain_renders
from facesimxai.errors import InputError
from facesimxai.io import atomic_path, write_parquet

log = logging.getLogger(__name__)

PAIR_COLUMNS = ("pair_id", "fold", "a", "b", "genuine")


class PairsFileError(InputError):
    """A pairs file that does not follow the LFW layout; the message names file and line."""


def lfw_image_name(name: str, number: int) -> str:
    """The LFW image of ``name``'s ``number``-th picture, relative to the image folder."""
    return f"{name}/{name}_{number:04d}.jpg"


def _fields(line: str) -> list[str]:
    parts = line.split("\t") if "\t" in line else line.split()
    return [p.strip() for p in parts]


def _number(path: Path, lineno: int, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise PairsFileError(f"{path}, line {lineno}: image number {text!r} is not a positive integer")
    return int(text)


def read_lfw_pairs(path: Path | str) -> pd.DataFrame:
    """One row per pair: ``fold`` (set index, 0-based), ``image_a``/``image_b`` (LFW relative
    paths), ``genuine``, ``line`` (1-based line in the file)."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()  # LF or CRLF, with or without a BOM
    if not lines or not lines[0].strip():
        raise PairsFileError(f"{path}, line 1: empty; expected '<sets> <pairs per set>' or '<pairs>'")
    header = _fields(lines[0])
    if not all(h.isdigit() for h in header) or len(header) not in (1, 2):
        raise PairsFileError(f"{path}, line 1: header {lines[0]!r} is not '<sets> <pairs per set>' or '<pairs>'")
    n_sets, per_set = (1, int(header[0])) if len(header) == 1 else (int(header[0]), int(header[1]))
    body = [(i + 2, ln) for i, ln in enumerate(lines[1:]) if ln.strip()]
    if len(body) != 2 * n_sets * per_set:
        raise PairsFileError(f"{path}: the header promises {n_sets} set(s) of {per_set} matched and {per_set} "
                             f"mismatched pairs ({2 * n_sets * per_set} lines), the file has {len(body)}")
    rows = []
    for k, (lineno, line) in enumerate(body):
        fold, genuine = k // (2 * per_set), (k % (2 * per_set)) < per_set
        f = _fields(line)
        if genuine:
            if len(f) != 3:
                raise PairsFileError(f"{path}, line {lineno}: a matched pair needs 'name n1 n2', got {line!r}")
            a, b = lfw_image_name(f[0], _number(path, lineno, f[1])), lfw_image_name(f[0], _number(path, lineno, f[2]))
        else:
            if len(f) != 4:
                raise PairsFileError(f"{path}, line {lineno}: a mismatched pair needs 'name1 n1 name2 n2', "
                                     f"got {line!r}")
            a, b = lfw_image_name(f[0], _number(path, lineno, f[1])), lfw_image_name(f[2], _number(path, lineno, f[3]))
        rows.append({"fold": fold, "image_a": a, "image_b": b, "genuine": genuine, "line": lineno})
    return pd.DataFrame(rows).reset_index(names="pair_id")


def synthetic_pairs(identity: np.ndarray, n_pairs: int, n_folds: int, seed: int) -> pd.DataFrame:
    """Balanced genuine/impostor pairs of renders (``a``, ``b`` index ``identity``), in folds whose
    identities are disjoint (LFW's convention: no person is in two folds).

    ``n_pairs`` genuine and ``n_pairs`` impostor pairs, split evenly over folds; a genuine pair is
    two different renders of one identity, an impostor pair renders of two identities of the fold.
    """
    identity = np.asarray(identity)
    ids = np.unique(identity)
    if len(ids) < 2 * n_folds:
        raise ValueError(f"{len(ids)} identities cannot fill {n_folds} folds with two identities each (config keys "
                         "verification.synthetic.n_identities, verification.n_folds)")
    if np.bincount(identity).max() < 2:
        raise ValueError("genuine pairs need at least two renders per identity")
    rng = np.random.default_rng(seed)
    fold_of = dict(zip(rng.permutation(ids), np.arange(len(ids)) % n_folds, strict=True))
    by_id = {i: np.flatnonzero(identity == i) for i in ids}
    rows = []
    for fold in range(n_folds):
        members = [i for i in ids if fold_of[i] == fold and len(by_id[i]) >= 2]
        everyone = [i for i in ids if fold_of[i] == fold]
        n = n_pairs // n_folds + (fold < n_pairs % n_folds)
        seen: set[tuple[int, int]] = set()
        for genuine in (True, False):
            made, tries = 0, 0
            while made < n:
                tries += 1
                if tries > 100 * n + 1000:
                    raise ValueError(f"fold {fold} has too few identities or renders for {n} distinct pairs (config "
                                     "keys verification.n_pairs, verification.synthetic.n_identities and "
                                     "renders_per_identity)")
                if genuine:
                    a, b = rng.choice(by_id[rng.choice(members)], 2, replace=False)
                else:
                    p, q = rng.choice(everyone, 2, replace=False)
                    a, b = rng.choice(by_id[p]), rng.choice(by_id[q])
                key = (int(min(a, b)), int(max(a, b)))
                if key in seen:
                    continue
                seen.add(key)
                rows.append({"fold": fold, "a": key[0], "b": key[1], "genuine": genuine})
                made += 1
    return pd.DataFrame(rows).reset_index(names="pair_id")[list(PAIR_COLUMNS)]


def _write_faces(images: np.ndarray, identity: np.ndarray, names: list[str], out: Path | str, attrs: dict) -> None:
    ds = xr.Dataset({"image": (("image", "y", "x", "channel"), images), "identity": ("image", identity),
                     "name": ("image", np.array(names, object))}, attrs=attrs)
    ds["image"].encoding["chunks"] = (min(256, max(1, len(images))), *images.shape[1:])
    with atomic_path(out) as tmp:
        ds.to_zarr(tmp, mode="w", consolidated=False)


def build_pairs(*, cfg: dict, augment: dict, image_size: int, resize: str, faces_out: Path | str,
                pairs_out: Path | str, workers: int = 1) -> pd.DataFrame:
    """Render held-out synthetic identities (or read a pairs file and its images) and write the
    face store and the pair table."""
    if cfg["source"] == "synthetic":
        syn = cfg["synthetic"]
        images, identity, _, _ = pretrain_renders(syn["n_identities"], syn["renders_per_identity"], syn["seed"],
                                                  image_size, Augmentation.from_config(augment), workers)
        names = [f"synthetic/{i}_{k}" for k, i in enumerate(identity)]
        pairs = synthetic_pairs(identity, cfg["n_pairs"], cfg["n_folds"], cfg["seed"])
        _write_faces(images, identity, names, faces_out, {"source": "synthetic", "seed": syn["seed"]})
    else:
        unset = [f"verification.lfw.{k}" for k in ("pairs", "images") if not cfg["lfw"][k]]
        if unset:
            raise PairsFileError(f"config key(s) {', '.join(unset)} not set: verification.source lfw needs a "
                                 "pairs.txt and the folder of its images")
        pairs_file, folder = Path(cfg["lfw"]["pairs"]), Path(cfg["lfw"]["images"])
        table = read_lfw_pairs(pairs_file)
        names = sorted(set(table["image_a"]) | set(table["image_b"]))
        index = {n: i for i, n in enumerate(names)}
        first_line = {}
        for col in ("image_a", "image_b"):
            for n, ln in zip(table[col], table["line"], strict=True):
                first_line.setdefault(n, ln)
        images = []
        for n in tqdm(names, desc="pair images", unit="image"):
            if not (folder / n).is_file():
                raise FaceInputError(f"{pairs_file}, line {first_line[n]}: image {folder / n} does not exist")
            images.append(load_face_image(folder / n, image_size, resize))
        identity = pd.factorize(np.array([n.split("/")[0] for n in names]))[0]
        pairs = table.assign(a=table["image_a"].map(index), b=table["image_b"].map(index))
        pairs = pairs[["pair_id", "fold", "a", "b", "genuine", "image_a", "image_b", "line"]]
        _write_faces(np.stack(images), identity, names, faces_out, {"source": str(pairs_file)})
    write_parquet(pairs, pairs_out)
    log.info("%d genuine and %d impostor pairs in %d folds", pairs["genuine"].sum(), (~pairs["genuine"]).sum(),
             pairs["fold"].nunique())
    return pairs
