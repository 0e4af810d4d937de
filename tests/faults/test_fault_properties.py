"""Property-based tests: random malformed trial files and configs never end in a traceback the
user cannot act on: either the input is accepted, or one error names the file/row or config key."""

from __future__ import annotations

import copy
import re
import string
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from conftest import ROOT, trial_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facesimxai.config import ConfigError, load_schema, validate_config
from facesimxai.data.judgments import FACESIM3D_COLUMNS, TrialFileError, import_judgments

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

junk = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(string.printable, max_size=12), st.just(""), st.just("nan"), st.just("1e309"),
)


def valid_rows(n: int = 6) -> list[dict]:
    faces = [(1, 2, 3), (2, 3, 4), (1, 3, 4), (1, 2, 4), (2, 3, 1), (4, 1, 2)]
    return [trial_row(trial_num=i + 1, trial_num_in_block=i + 1, head1=a, head2=b, head3=c, head_odd=b,
                      triplet="_".join(map(str, sorted((a, b, c)))), triplet_id=i + 1)
            for i, (a, b, c) in enumerate(faces[:n])]


@st.composite
def damaged_trial_files(draw) -> tuple[list[dict], list[str]]:
    rows = valid_rows()
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.integers(0, len(rows) - 1))
        rows[row][draw(st.sampled_from(FACESIM3D_COLUMNS))] = draw(junk)
    columns = list(FACESIM3D_COLUMNS)
    if draw(st.booleans()):
        columns.remove(draw(st.sampled_from(columns)))
    if draw(st.booleans()):
        columns.append(draw(st.text(string.ascii_letters, min_size=1, max_size=8)))
    return rows, columns


@SETTINGS
@given(damaged_trial_files())
def test_damaged_trial_files_are_accepted_or_refused_by_file_and_row(case):
    rows, columns = case
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pd.DataFrame({"face_id": [1, 2, 3, 4]}).to_parquet(tmp / "manifest.parquet")
        trials = tmp / "trials.csv"
        pd.DataFrame(rows).reindex(columns=columns).to_csv(trials, index=False)
        out, summary = tmp / "out" / "cleaned.parquet", tmp / "out" / "summary.csv"
        try:
            clean = import_judgments([trials], tmp / "manifest.parquet", "facesim3d", out, summary)
        except TrialFileError as err:
            msg = str(err)
            assert "trials.csv" in msg or "no trials left after cleaning" in msg, msg
            if ", line " in msg:
                assert re.search(r"trials\.csv, line \d+: ", msg), msg
            assert not out.exists() and not summary.exists()
        else:
            assert out.exists() and len(clean) <= len(rows)
            assert clean[["head1", "head2", "head3"]].isin([1, 2, 3, 4]).all().all()


def _paths(tree: dict, prefix: tuple = ()) -> list[tuple]:
    found = []
    for key, value in tree.items():
        found.append((*prefix, key))
        if isinstance(value, dict):
            found += _paths(value, (*prefix, key))
    return found


BASE = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
KEYS = _paths(BASE)
TOP_LEVEL = set(load_schema()["properties"])


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(KEYS), st.one_of(junk, st.lists(junk, max_size=3),
                                                          st.dictionaries(st.text(max_size=5), junk, max_size=2),
                                                          st.just("<delete>"))), min_size=1, max_size=3))
def test_malformed_configs_are_refused_by_key(edits):
    cfg = copy.deepcopy(BASE)
    for path, value in edits:
        node = cfg
        for key in path[:-1]:
            if not isinstance(node.get(key), dict):
                break
            node = node[key]
        else:
            if value == "<delete>":
                node.pop(path[-1], None)
            else:
                node[path[-1]] = value
    try:
        validate_config(cfg)
    except ConfigError as err:
        msg = str(err)
        keys = re.findall(r"config key '([^']*)'", msg)
        assert keys or "unknown config key(s)" in msg, msg
        for key in keys:  # the dotted path starts at a real top-level key
            assert key == "<top level>" or key.split(".")[0] in TOP_LEVEL, msg
