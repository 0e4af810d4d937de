"""Atomic output writing: a file appears under its final name only once it is complete.

Snakemake removes the outputs of a failed job, but the library is also called from tests and
scripts outside Snakemake; writing to a temporary name and renaming keeps a killed or failed
step from leaving anything that looks finished.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling path; move it onto ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)) / path.name
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def write_parquet(df: pd.DataFrame, path: Path | str, csv: bool = False) -> None:
    """Write a table as Parquet (and, where people will open it, a CSV copy beside it)."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    if csv:
        write_csv(df, Path(path).with_suffix(".csv"))


def write_csv(df: pd.DataFrame, path: Path | str) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def write_json(obj, path: Path | str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_jsonable) + "\n")


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def open_zarr(path: Path | str):
    """Open a Zarr store written as a Snakemake ``directory()`` output.

    Snakemake drops a ``.snakemake_timestamp`` file into directory outputs, which zarr warns
    about on every open; it is harmless, so that one warning is silenced here.
    """
    import warnings

    import xarray as xr

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*snakemake_timestamp.*")
        return xr.open_zarr(path, consolidated=False)


def file_sha256(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
