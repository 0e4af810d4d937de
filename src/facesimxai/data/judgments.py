"""Import FaceSim3D odd-one-out trial files and clean them as FaceSim3D does.

Accepted layouts (FaceSim3D's ``code/facesim3d/read_data.py``, written with
``to_csv(index=False)``): the main study's 21 columns (``SORTED_COLS``) and the pilot's first 16
(``SORTED_COLS_PILOT``), in any column order, with or without a BOM, LF or CRLF line endings and
blank lines. Any other column is refused unless listed in ``judgments.allow_extra_columns``.

Cleaning, in FaceSim3D's order, each step on the rows the previous ones kept: (0) drop exact
duplicate rows (FaceSim3D's ``drop_duplicates``; a file listed twice is read once); (1) drop the
training block (keep ``block_num > 1``); (2) drop rows whose ``caught`` is empty (unfinished
trials); (3) per ``ppid_session_dataname``: three or more missed catches (``caught == True``)
drop the whole session, fewer drop each block with a miss; (4) drop catch trials
(``catch_head != 0``); (5) drop timeouts (``head_odd == 0``). Steps 2 and 3 apply to main-layout
rows only: FaceSim3D's pilot cleaning (``read_pilot_data``) has no catch-miss rules.

Values are checked when read (a non-number, a fraction or an out-of-range number in an integer
column is refused with file, line and column), but an *empty* value is only refused if its row
survives cleaning: an unfinished trial is dropped by step 2 as FaceSim3D drops it.

Output (``results/judgments/cleaned.parquet``): the 21 columns (a pilot row has the 5 main-only
ones empty) plus ``layout`` (``main`` | ``pilot``), ``source`` (``simulated`` | ``facesim3d``),
``source_file`` and ``source_row`` (the 1-based line in that file, header = line 1), so any trial
can be traced back to the line it came from.
"""

from __future__ import annotations

import csv
import glob
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from facesimxai.errors import InputError
from facesimxai.io import write_csv, write_parquet

log = logging.getLogger(__name__)

PILOT_COLUMNS: tuple[str, ...] = (
    "ppid", "trial_num", "block_num", "trial_num_in_block", "break_time", "start_time", "end_time",
    "response_time", "triplet_id", "correct", "head1", "head2", "head3", "head_odd", "catch_head",
    "caught",
)
MAIN_ONLY_COLUMNS: tuple[str, ...] = (
    "triplet", "session_num", "keyPress", "SystemDateTime_BeginTrial", "ppid_session_dataname",
)
FACESIM3D_COLUMNS: tuple[str, ...] = PILOT_COLUMNS + MAIN_ONLY_COLUMNS
LAYOUTS: dict[str, tuple[str, ...]] = {"main": FACESIM3D_COLUMNS, "pilot": PILOT_COLUMNS}
INT_COLUMNS = ("trial_num", "block_num", "trial_num_in_block", "head1", "head2", "head3",
               "head_odd", "catch_head")
FLOAT_COLUMNS = ("break_time", "start_time", "end_time", "response_time")
BOOL_COLUMNS = ("correct", "caught")
# What the later stages need of every trial that survives cleaning.
REQUIRED_AFTER_CLEANING = ("trial_num", "block_num", "head1", "head2", "head3", "head_odd",
                           "catch_head")
INT_LIMIT = 2**31 - 1  # FaceSim3D writes ids and counts as floats; beyond this nothing is an id
_TRUE = {"true", "1", "1.0", "yes"}
_FALSE = {"false", "0", "0.0", "no"}


class TrialFileError(InputError):
    """A trial file that cannot be imported; the message names the file, line and column."""


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


def _read_records(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, records and each record's first line number. The csv module counts physical
    lines (blank lines, quoted newlines), which pandas' record count does not."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header: list[str] | None = None
            records, lines, previous = [], [], 0
            for record in reader:
                first_line, previous = previous + 1, reader.line_num
                if not any(field.strip() for field in record):
                    continue  # a blank line (or one of empty fields) is not a trial
                if header is None:
                    header = [name.strip() for name in record]
                    continue
                if len(record) != len(header):
                    raise TrialFileError(f"{path}, line {first_line}: {len(record)} fields, but the "
                                         f"header has {len(header)}")
                records.append(record)
                lines.append(first_line)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise TrialFileError(f"{path}: not a readable CSV file ({exc})") from exc
    if header is None:
        raise TrialFileError(f"{path}: file is empty")
    return header, records, lines


def _layout(path: Path, header: list[str], allow_extra: Sequence[str]) -> str:
    """Which FaceSim3D layout the header is; refuses any other with what is wrong and how to fix."""
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise TrialFileError(f"{path}: column(s) {', '.join(repeated)} appear more than once")
    layout = "main" if set(MAIN_ONLY_COLUMNS) & set(header) else "pilot"
    expected = LAYOUTS[layout]
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in FACESIM3D_COLUMNS and c not in allow_extra]
    parts = []
    if missing:
        parts.append(f"missing column(s) {', '.join(missing)} (FaceSim3D trial files have "
                     f"{len(FACESIM3D_COLUMNS)} columns: {', '.join(FACESIM3D_COLUMNS)}; its pilot "
                     f"files the first {len(PILOT_COLUMNS)})")
    if extra:
        parts.append(f"unexpected column(s) {', '.join(extra)} (list them in config key "
                     "judgments.allow_extra_columns to import the file and ignore them)")
    if parts:
        raise TrialFileError(f"{path}: {'; '.join(parts)}")
    return layout


def _fail(path: Path, line: int, col: str, value: str, expected: str) -> None:
    raise TrialFileError(f"{path}, line {line}: column '{col}' has {value!r}; expected {expected}")


def _parse_int(text: pd.Series, path: Path, lines: np.ndarray) -> pd.Series:
    """Integers, possibly written as floats ('12.0', as FaceSim3D writes them); empty → NA."""
    num = pd.to_numeric(text, errors="coerce")
    empty = text == ""
    checks = (
        (num.isna(), "an integer"),
        (~np.isfinite(num.fillna(0)), "a finite integer"),
        (num.abs() > INT_LIMIT, f"an integer within ±{INT_LIMIT}"),
        (num != np.round(num), "an integer"),
    )
    for bad, expected in checks:
        bad = bad & ~empty
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            _fail(path, lines[i], str(text.name), text.iloc[i], expected)
    return num.where(~empty).astype("Int64")


def _parse_float(text: pd.Series, path: Path, lines: np.ndarray) -> pd.Series:
    num = pd.to_numeric(text, errors="coerce")
    bad = (num.isna() | ~np.isfinite(num.fillna(0))) & (text != "")
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        _fail(path, lines[i], str(text.name), text.iloc[i], "a finite number or empty")
    return num.astype(float)


def _parse_bool(text: pd.Series, path: Path, lines: np.ndarray) -> pd.Series:
    lower = text.str.lower()
    out = pd.Series(pd.NA, index=text.index, dtype="boolean")
    out[lower.isin(_TRUE)] = True
    out[lower.isin(_FALSE)] = False
    bad = ~(lower.isin(_TRUE) | lower.isin(_FALSE) | (lower == "") | (lower == "nan"))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        _fail(path, lines[i], str(text.name), text.iloc[i], "True, False or empty")
    return out


def read_trial_file(path: Path | str, allow_extra: Sequence[str] = ()) -> pd.DataFrame:
    """Read one FaceSim3D trial CSV (main or pilot layout) and check its value types."""
    path = Path(path)
    header, records, line_list = _read_records(path)
    layout = _layout(path, header, allow_extra)
    raw = pd.DataFrame(records, columns=header, dtype=str).apply(lambda c: c.str.strip())
    lines = np.asarray(line_list, dtype=np.int64)
    df = pd.DataFrame(index=raw.index)
    for col in FACESIM3D_COLUMNS:
        text = raw[col] if col in raw else pd.Series("", index=raw.index, name=col)
        if col in INT_COLUMNS:
            df[col] = _parse_int(text, path, lines)
        elif col in FLOAT_COLUMNS:
            df[col] = _parse_float(text, path, lines)
        elif col in BOOL_COLUMNS:
            df[col] = _parse_bool(text, path, lines)
        else:
            df[col] = text.astype("string") if col in raw else pd.Series(pd.NA, index=raw.index,
                                                                          dtype="string")
    df["layout"] = layout
    df["source_file"] = str(path)
    df["source_row"] = lines
    return df


def _describe_duplicate(df: pd.DataFrame, dup: np.ndarray) -> str:
    i = int(np.flatnonzero(dup)[0])
    key = df[list(FACESIM3D_COLUMNS)].astype(str).agg("\x1f".join, axis=1)
    first = int(np.flatnonzero((key == key.iloc[i]).to_numpy())[0])
    return (f"{df['source_file'].iloc[i]}, line {df['source_row'].iloc[i]} repeats "
            f"{df['source_file'].iloc[first]}, line {df['source_row'].iloc[first]}")


def clean_trials(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply the duplicate rule and FaceSim3D's five cleaning rules in order; return
    (clean trials, summary with one row per step)."""
    steps = []

    def step(name: str, keep: pd.Series | np.ndarray, current: pd.DataFrame) -> pd.DataFrame:
        out = current[np.asarray(keep, dtype=bool)]
        steps.append({"step": len(steps), "rule": name, "rows_before": len(current),
                      "rows_dropped": len(current) - len(out), "rows_after": len(out)})
        return out

    dup = df.duplicated(subset=list(FACESIM3D_COLUMNS)).to_numpy()
    if dup.any():
        log.warning("dropped %d exact duplicate row(s), e.g. %s", dup.sum(), _describe_duplicate(df, dup))
    df = step("drop exact duplicate rows (FaceSim3D's drop_duplicates)", ~dup, df)
    df = step("drop training block (keep block_num > 1)", (df["block_num"] > 1).fillna(False), df)
    main = (df["layout"] == "main").to_numpy()
    df = step("drop rows with empty 'caught' (main layout)", ~main | df["caught"].notna(), df)
    main = (df["layout"] == "main").to_numpy()
    missed = (df["caught"].fillna(False).astype(bool) & main).astype(int)
    session = df["ppid_session_dataname"].fillna("")
    per_session = missed.groupby(session).transform("sum")
    bad_block = missed.groupby([session, df["block_num"].fillna(-1)]).transform("max") > 0
    df = step("drop sessions with >= 3 missed catches, else blocks with a miss (main layout)",
              ~main | ((per_session < 3) & ~bad_block).to_numpy(), df)
    df = step("drop catch trials (catch_head != 0)", (df["catch_head"] == 0).fillna(False), df)
    df = step("drop timeouts (head_odd == 0)", (df["head_odd"] != 0).fillna(True), df)
    _require_values(df)
    df = df.astype({c: np.int64 for c in REQUIRED_AFTER_CLEANING})
    return df.reset_index(drop=True), pd.DataFrame(steps)


def _require_values(df: pd.DataFrame) -> None:
    """An empty value is only an error in a trial that survived cleaning (FaceSim3D's order)."""
    for col in REQUIRED_AFTER_CLEANING:
        empty = df[col].isna().to_numpy()
        if empty.any():
            i = int(np.flatnonzero(empty)[0])
            raise TrialFileError(f"{df['source_file'].iloc[i]}, line {df['source_row'].iloc[i]}: "
                                 f"column '{col}' is empty in a trial that survives cleaning; "
                                 "expected an integer")


def check_face_ids(df: pd.DataFrame, face_ids: Sequence[int]) -> None:
    """Every head id must be a known face; head_odd must be 0 (timeout) or one of the heads."""
    known = np.asarray(sorted(face_ids))
    for col in ("head1", "head2", "head3", "head_odd", "catch_head"):
        values = df[col].to_numpy()
        allowed = np.isin(values, known) | ((values == 0) & (col in ("head_odd", "catch_head")))
        if not allowed.all():
            i = int(np.flatnonzero(~allowed)[0])
            raise TrialFileError(
                f"{df['source_file'].iloc[i]}, line {df['source_row'].iloc[i]}: column '{col}' "
                f"has face id {values[i]}, not in the face set (ids {known.min()}..{known.max()})")
    heads = df[["head1", "head2", "head3"]].to_numpy()
    odd = df["head_odd"].to_numpy()
    ok = (odd == 0) | (heads == odd[:, None]).any(axis=1)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise TrialFileError(f"{df['source_file'].iloc[i]}, line {df['source_row'].iloc[i]}: "
                             f"head_odd {odd[i]} is not one of the shown heads {heads[i].tolist()}")
    dup = (heads[:, 0] == heads[:, 1]) | (heads[:, 0] == heads[:, 2]) | (heads[:, 1] == heads[:, 2])
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise TrialFileError(f"{df['source_file'].iloc[i]}, line {df['source_row'].iloc[i]}: "
                             f"a non-catch trial shows a face twice {heads[i].tolist()}")


def import_judgments(files: Sequence[str | Path], manifest: Path | str, source: str,
                     out: Path | str, summary_out: Path | str,
                     allow_extra: Sequence[str] = ()) -> pd.DataFrame:
    """Read, clean and check trial files; write cleaned trials and the cleaning summary."""
    face_ids = pd.read_parquet(manifest)["face_id"].to_numpy()
    frames = [read_trial_file(f, allow_extra) for f in files]
    raw = pd.concat(frames, ignore_index=True)
    if raw.empty:
        raise TrialFileError(f"no trials in {', '.join(str(f) for f in files)}")
    clean, summary = clean_trials(raw)
    if clean.empty:
        raise TrialFileError("no trials left after cleaning; see the cleaning summary rules")
    check_face_ids(clean, face_ids)
    clean.insert(len(FACESIM3D_COLUMNS) + 1, "source", source)
    write_csv(summary, summary_out)
    write_parquet(clean, out)
    log.info("imported %d rows from %d file(s) (%s layout); %d trials after cleaning", len(raw),
             len(files), "/".join(sorted(raw["layout"].unique())), len(clean))
    return clean
