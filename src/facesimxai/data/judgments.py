"""Import FaceSim3D odd-one-out trial files and clean them as FaceSim3D does.

Cleaning, in this order (REFERENCE.md): (1) drop block 1 (training); (2) drop rows whose
``caught`` is empty; (3) per ``ppid_session_dataname``: three or more missed catches
(``caught == True``) drop the whole session, fewer drop each block with a miss; (4) drop catch
trials (``catch_head != 0``); (5) drop timeouts (``head_odd == 0``).

Output (``results/judgments/cleaned.parquet``): FaceSim3D's columns plus ``source``
(``simulated`` | ``facesim3d``), ``source_file`` and ``source_row`` (1-based line in that file,
header = line 1), so any trial can be traced back to the row it came from.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from facesimxai.errors import InputError
from facesimxai.io import write_csv, write_parquet

log = logging.getLogger(__name__)

FACESIM3D_COLUMNS: tuple[str, ...] = (
    "ppid", "trial_num", "block_num", "trial_num_in_block", "response_time", "triplet_id",
    "head1", "head2", "head3", "head_odd", "catch_head", "caught", "triplet", "session_num",
    "keyPress", "SystemDateTime_BeginTrial", "ppid_session_dataname",
)
INT_COLUMNS = ("trial_num", "block_num", "trial_num_in_block", "head1", "head2", "head3",
               "head_odd", "catch_head")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class TrialFileError(InputError):
    """A trial file that cannot be imported; the message names the file, row and column."""


def expand_files(patterns: Sequence[str]) -> list[Path]:
    """Resolve the config's file list (paths or glob patterns) to existing files, in order."""
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches or not Path(matches[0]).is_file():
            raise TrialFileError(f"trial file {pattern!r} (config key judgments.files) not found")
        files.extend(Path(m) for m in matches)
    if not files:
        raise TrialFileError("no trial files given (config key judgments.files)")
    return files


def _parse_caught(values: pd.Series, file: Path, rows: np.ndarray) -> pd.Series:
    text = values.fillna("").astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[text.isin(_TRUE)] = True
    out[text.isin(_FALSE)] = False
    bad = ~(text.isin(_TRUE) | text.isin(_FALSE) | (text == "") | (text == "nan"))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise TrialFileError(f"{file}, row {rows[i]}: column 'caught' has {values.iloc[i]!r}; "
                             "expected True, False or empty")
    return out


def read_trial_file(path: Path | str, allow_extra: Sequence[str] = ()) -> pd.DataFrame:
    """Read one FaceSim3D trial CSV and check its columns and value types."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise TrialFileError(f"{path}: not a readable CSV file ({exc})") from exc
    except pd.errors.EmptyDataError as exc:
        raise TrialFileError(f"{path}: file is empty") from exc
    missing = [c for c in FACESIM3D_COLUMNS if c not in df.columns]
    extra = [c for c in df.columns if c not in FACESIM3D_COLUMNS and c not in allow_extra]
    if missing or extra:
        parts = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
                ([f"unexpected column(s) {', '.join(extra)}"] if extra else [])
        raise TrialFileError(f"{path}: {'; '.join(parts)} (FaceSim3D columns: "
                             f"{', '.join(FACESIM3D_COLUMNS)})")
    df = df[list(FACESIM3D_COLUMNS)].copy()
    rows = np.arange(len(df)) + 2  # line numbers: header is line 1
    for col in INT_COLUMNS:
        num = pd.to_numeric(df[col].str.strip(), errors="coerce")
        bad = num.isna() | (num != np.round(num))
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise TrialFileError(f"{path}, row {rows[i]}: column '{col}' has "
                                 f"{df[col].iloc[i]!r}; expected an integer")
        df[col] = num.astype(np.int64)
    rt = pd.to_numeric(df["response_time"].replace("", np.nan), errors="coerce")
    bad = rt.isna() & (df["response_time"] != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise TrialFileError(f"{path}, row {rows[i]}: column 'response_time' has "
                             f"{df['response_time'].iloc[i]!r}; expected a number")
    df["response_time"] = rt.astype(float)
    df["caught"] = _parse_caught(df["caught"], path, rows)
    df["source_file"] = str(path)
    df["source_row"] = rows
    return df


def check_face_ids(df: pd.DataFrame, face_ids: Sequence[int]) -> None:
    """Every head id must be a known face; head_odd must be 0 (timeout) or one of the heads."""
    known = np.asarray(sorted(face_ids))
    for col in ("head1", "head2", "head3", "head_odd", "catch_head"):
        values = df[col].to_numpy()
        allowed = np.isin(values, known) | ((values == 0) & (col in ("head_odd", "catch_head")))
        if not allowed.all():
            i = int(np.flatnonzero(~allowed)[0])
            raise TrialFileError(
                f"{df['source_file'].iloc[i]}, row {df['source_row'].iloc[i]}: column '{col}' "
                f"has face id {values[i]}, not in the face set (ids {known.min()}..{known.max()})")
    heads = df[["head1", "head2", "head3"]].to_numpy()
    odd = df["head_odd"].to_numpy()
    ok = (odd == 0) | (heads == odd[:, None]).any(axis=1)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise TrialFileError(f"{df['source_file'].iloc[i]}, row {df['source_row'].iloc[i]}: "
                             f"head_odd {odd[i]} is not one of the shown heads {heads[i].tolist()}")


def clean_trials(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply FaceSim3D's five cleaning rules in order; return (clean trials, summary)."""
    steps = []

    def step(name: str, keep: pd.Series, current: pd.DataFrame) -> pd.DataFrame:
        out = current[keep.to_numpy()]
        steps.append({"step": len(steps) + 1, "rule": name, "rows_before": len(current),
                      "rows_dropped": len(current) - len(out), "rows_after": len(out)})
        return out

    df = step("drop training block (block_num == 1)", df["block_num"] != 1, df)
    df = step("drop rows with empty 'caught'", df["caught"].notna(), df)
    missed = df["caught"].fillna(False).astype(bool)
    per_session = missed.groupby(df["ppid_session_dataname"]).transform("sum")
    bad_block = missed.groupby([df["ppid_session_dataname"], df["block_num"]]).transform("any")
    df = step("drop sessions with >= 3 missed catches, else blocks with a miss",
              (per_session < 3) & ~bad_block, df)
    df = step("drop catch trials (catch_head != 0)", df["catch_head"] == 0, df)
    df = step("drop timeouts (head_odd == 0)", df["head_odd"] != 0, df)
    df = df.copy()
    df["caught"] = df["caught"].astype(bool)
    return df.reset_index(drop=True), pd.DataFrame(steps)


def import_judgments(files: Sequence[str | Path], manifest: Path | str, source: str,
                     out: Path | str, summary_out: Path | str,
                     allow_extra: Sequence[str] = ()) -> pd.DataFrame:
    """Read, check and clean trial files; write cleaned trials and the cleaning summary."""
    face_ids = pd.read_parquet(manifest)["face_id"].to_numpy()
    frames = [read_trial_file(f, allow_extra) for f in files]
    raw = pd.concat(frames, ignore_index=True)
    if raw.empty:
        raise TrialFileError(f"no trials in {', '.join(str(f) for f in files)}")
    check_face_ids(raw, face_ids)
    clean, summary = clean_trials(raw)
    heads = clean[["head1", "head2", "head3"]].to_numpy()
    dup = (heads[:, 0] == heads[:, 1]) | (heads[:, 0] == heads[:, 2]) | (heads[:, 1] == heads[:, 2])
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise TrialFileError(f"{clean['source_file'].iloc[i]}, row {clean['source_row'].iloc[i]}: "
                             f"a non-catch trial shows a face twice {heads[i].tolist()}")
    if clean.empty:
        raise TrialFileError("no trials left after cleaning; see the cleaning summary rules")
    clean.insert(len(FACESIM3D_COLUMNS), "source", source)
    write_csv(summary, summary_out)
    write_parquet(clean, out)
    log.info("imported %d rows from %d file(s); %d trials after cleaning",
             len(raw), len(files), len(clean))
    return clean
