"""FaceSim3D trial import: each cleaning rule on hand-made files, FaceSim3D's real layouts and
line endings, duplicates, and every bad-input case."""

import numpy as np
import pandas as pd
import pytest
from conftest import trial_row, write_trials

from facesimxai.data.judgments import (
    FACESIM3D_COLUMNS,
    PILOT_COLUMNS,
    TrialFileError,
    clean_trials,
    expand_files,
    import_judgments,
    read_trial_file,
)


def _clean(tmp_path, rows):
    df = read_trial_file(write_trials(tmp_path / "t.csv", rows))
    return clean_trials(df)


def _dropped(summary, step):
    return int(summary.set_index("step").loc[step, "rows_dropped"])


def test_rule1_drops_training_block(tmp_path):
    clean, summary = _clean(tmp_path, [trial_row(block_num=1), trial_row(trial_num=2)])
    assert clean["trial_num"].tolist() == [2]
    assert _dropped(summary, 1) == 1


def test_rule2_drops_empty_caught(tmp_path):
    clean, summary = _clean(tmp_path, [trial_row(caught=""), trial_row(trial_num=2)])
    assert clean["trial_num"].tolist() == [2]
    assert _dropped(summary, 2) == 1


def test_rule3_three_missed_catches_drop_the_whole_session(tmp_path):
    miss = dict(catch_head=1, head2=1, head_odd=1, caught="True")
    rows = [trial_row(trial_num=i, block_num=b, **miss) for i, b in ((1, 2), (2, 3), (3, 4))]
    rows += [trial_row(trial_num=4, block_num=5)]
    rows += [trial_row(trial_num=9, ppid="p02", ppid_session_dataname="p02_2D_x")]
    clean, summary = _clean(tmp_path, rows)
    assert clean["ppid"].tolist() == ["p02"]
    assert _dropped(summary, 3) == 4


def test_rule3_fewer_misses_drop_only_their_blocks(tmp_path):
    rows = [
        trial_row(trial_num=1, block_num=2, catch_head=1, head2=1, head_odd=1, caught="True"),
        trial_row(trial_num=2, block_num=2),
        trial_row(trial_num=3, block_num=3),
    ]
    clean, summary = _clean(tmp_path, rows)
    assert clean["trial_num"].tolist() == [3]
    assert _dropped(summary, 3) == 2


def test_rule4_drops_catch_trials_that_were_caught(tmp_path):
    rows = [trial_row(trial_num=1, catch_head=1, head2=1, head_odd=3, caught="False"),
            trial_row(trial_num=2)]
    clean, summary = _clean(tmp_path, rows)
    assert clean["trial_num"].tolist() == [2]
    assert _dropped(summary, 4) == 1


def test_rule5_drops_timeouts(tmp_path):
    clean, summary = _clean(tmp_path, [trial_row(head_odd=0), trial_row(trial_num=2)])
    assert clean["trial_num"].tolist() == [2]
    assert summary["rows_dropped"].tolist() == [0, 0, 0, 0, 0, 1]


def test_import_writes_clean_trials_and_summary(tmp_path, manifest_of):
    f = write_trials(tmp_path / "t.csv", [trial_row(), trial_row(trial_num=2, head_odd=0)])
    out, summary = tmp_path / "clean.parquet", tmp_path / "summary.csv"
    clean = import_judgments([f], manifest_of(), "facesim3d", out, summary)
    back = pd.read_parquet(out)
    assert len(back) == len(clean) == 1
    assert list(back.columns[: len(FACESIM3D_COLUMNS)]) == list(FACESIM3D_COLUMNS)
    assert back["source"].iloc[0] == "facesim3d" and back["source_row"].iloc[0] == 2
    assert back["layout"].iloc[0] == "main" and bool(back["correct"].iloc[0])
    assert pd.read_csv(summary)["rows_after"].iloc[-1] == 1


# --- FaceSim3D's own files: a reference of its cleaning, written independently ----------------

def _session_rows(rng, ppid: str, n_blocks: int = 4, per_block: int = 8, misses: int = 0,
                  unfinished: int = 0) -> list[dict]:
    """One simulated participant session in FaceSim3D's layout, with catches (some missed),
    timeouts and unfinished trials (empty ``caught`` and heads, as an aborted session leaves)."""
    rows, miss_blocks = [], set(rng.choice(np.arange(2, n_blocks + 1), misses, replace=misses > n_blocks - 1))
    for t in range(n_blocks * per_block):
        block, in_block = t // per_block + 1, t % per_block + 1
        heads = rng.choice(np.arange(1, 10), 3, replace=False)
        row = trial_row(ppid=ppid, ppid_session_dataname=f"{ppid}_s001_trial_results", trial_num=t + 1,
                        block_num=block, trial_num_in_block=in_block, head1=heads[0], head2=heads[1],
                        head3=heads[2], head_odd=heads[t % 3], triplet="_".join(map(str, sorted(heads))))
        if in_block == 3:  # a catch trial: head 1 shown twice
            missed = block in miss_blocks
            row.update(head2=heads[0], catch_head=heads[0], caught=str(missed),
                       head_odd=heads[0] if missed else heads[2])
        elif in_block == 5:
            row.update(head_odd=0, correct="False")  # a timeout
        rows.append(row)
    for _ in range(unfinished):
        rows.append(trial_row(ppid=ppid, ppid_session_dataname=f"{ppid}_s001_trial_results",
                              trial_num=len(rows) + 1, block_num=n_blocks, caught="", head1="", head2="",
                              head3="", head_odd="", catch_head="", triplet="", response_time=""))
    return rows


def _facesim3d_reference(path, pilot: bool = False) -> pd.DataFrame:
    """FaceSim3D's cleaning as its paper and read_data.py describe it, on pandas' own reading
    of the file, as an explicit loop (the importer is vectorised: two different implementations)."""
    t = pd.read_csv(path)
    t = t[t.block_num > 1]
    if not pilot:
        t = t[~t.caught.isna()]
        t = t.astype({"caught": bool})
        for name, session in t.groupby("ppid_session_dataname"):
            if session.caught.sum() >= 3:
                t = t[t.ppid_session_dataname != name]
                continue
            for block, rows in session.groupby("block_num"):
                if rows.caught.sum() > 0:
                    t = t[~((t.ppid_session_dataname == name) & (t.block_num == block))]
    t = t[t.catch_head == 0]
    t = t[t.head_odd != 0]
    return t


@pytest.mark.parametrize("pilot", [False, True], ids=["main-21-columns", "pilot-16-columns"])
def test_facesim3d_files_clean_exactly_as_facesim3d(tmp_path, manifest_of, pilot):
    rng = np.random.default_rng(3)
    rows = (_session_rows(rng, "pA", misses=1) + _session_rows(rng, "pB", misses=3)
            + _session_rows(rng, "pC", misses=2, unfinished=2) + _session_rows(rng, "pD"))
    columns = PILOT_COLUMNS if pilot else FACESIM3D_COLUMNS
    if pilot:  # a pilot file has no unfinished-trial rows of that kind; its heads are all numbers
        rows = [r for r in rows if r["caught"] != ""]
    f = write_trials(tmp_path / "t.csv", rows, columns, as_facesim3d=True, blank_line_after=7)
    clean = import_judgments([f], manifest_of(9), "facesim3d", tmp_path / "o.parquet", tmp_path / "s.csv")
    reference = _facesim3d_reference(f, pilot)
    assert 0 < len(reference) < len(rows)
    key = ["ppid", "trial_num"]
    assert clean[key].values.tolist() == reference[key].astype({"trial_num": int}).values.tolist()
    assert (clean["layout"] == ("pilot" if pilot else "main")).all()
    # source_row is the file line: the header is line 1, a blank line follows line 7
    by_trial = {(r["ppid"], r["trial_num"]): i + 2 + (i + 2 > 7) for i, r in enumerate(rows)}
    assert clean["source_row"].tolist() == [by_trial[tuple(k)] for k in clean[key].values.tolist()]
    heads = clean[["head1", "head2", "head3"]]
    assert (heads.dtypes == np.int64).all() and clean["response_time"].notna().all()


def test_same_file_twice_and_repeated_rows_do_not_change_the_result(tmp_path, manifest_of, caplog):
    rng = np.random.default_rng(4)
    rows = _session_rows(rng, "pA", misses=2) + _session_rows(rng, "pB")
    f = write_trials(tmp_path / "t.csv", rows, as_facesim3d=True)
    once = import_judgments([f], manifest_of(9), "facesim3d", tmp_path / "1.parquet", tmp_path / "1.csv")
    twice = import_judgments([f, f], manifest_of(9), "facesim3d", tmp_path / "2.parquet", tmp_path / "2.csv")
    pd.testing.assert_frame_equal(once, twice)
    summary = pd.read_csv(tmp_path / "2.csv")
    assert summary.loc[0, "rows_dropped"] == len(rows)
    assert f"{f}, line 2 repeats {f}, line 2" in caplog.text
    # a row repeated inside the file (here: a missed catch, which would count twice)
    miss = next(i for i, r in enumerate(rows) if r["caught"] == "True")
    g = write_trials(tmp_path / "g.csv", [*rows[: miss + 1], rows[miss], *rows[miss + 1:]], as_facesim3d=True)
    repeated = import_judgments([g], manifest_of(9), "facesim3d", tmp_path / "3.parquet", tmp_path / "3.csv")
    pd.testing.assert_frame_equal(once.drop(columns=["source_file", "source_row"]),
                                  repeated.drop(columns=["source_file", "source_row"]))
    assert pd.read_csv(tmp_path / "3.csv").loc[0, "rows_dropped"] == 1


def test_unfinished_trials_are_dropped_not_refused(tmp_path, manifest_of):
    rows = [trial_row(), trial_row(trial_num=2, caught="", head1="", head2="", head3="", head_odd="",
                                   catch_head="", response_time="")]
    f = write_trials(tmp_path / "t.csv", rows)
    clean = import_judgments([f], manifest_of(), "facesim3d", tmp_path / "o.parquet", tmp_path / "s.csv")
    assert clean["trial_num"].tolist() == [1]
    # the same empty head in a trial that survives cleaning is an error, named by line
    f = write_trials(tmp_path / "u.csv", [trial_row(), trial_row(trial_num=2, head3="")])
    with pytest.raises(TrialFileError, match=r"u.csv, line 3: column 'head3' is empty in a trial that survives"):
        import_judgments([f], manifest_of(), "facesim3d", tmp_path / "o.parquet", tmp_path / "s.csv")


def test_messages_name_the_file_line_after_a_blank_line(tmp_path, manifest_of):
    rows = [trial_row(trial_num=i) for i in range(1, 40)]
    rows[31]["head1"] = "x"  # record 33 of the file (header = 1), line 34 after the blank line
    f = write_trials(tmp_path / "t.csv", rows, blank_line_after=10)
    with pytest.raises(TrialFileError, match=r"t.csv, line 34: column 'head1' has 'x'"):
        read_trial_file(f)


@pytest.mark.parametrize(
    "rows, columns, message",
    [
        ([trial_row()], [c for c in FACESIM3D_COLUMNS if c != "head_odd"],
         r"missing column\(s\) head_odd \(FaceSim3D trial files have 21 columns"),
        ([dict(trial_row(), extra=1)], [*FACESIM3D_COLUMNS, "extra"],
         r"unexpected column\(s\) extra \(list them in config key judgments.allow_extra_columns"),
        ([trial_row()], [c for c in PILOT_COLUMNS if c != "correct"],
         r"missing column\(s\) correct \(FaceSim3D .* pilot files the first 16"),
        ([trial_row(), trial_row(head3="x")], FACESIM3D_COLUMNS, r"line 3: column 'head3' has 'x'"),
        ([trial_row(head2=2.5)], FACESIM3D_COLUMNS, r"line 2: column 'head2' has '2.5'"),
        ([trial_row(head2="inf")], FACESIM3D_COLUMNS, r"line 2: column 'head2' has 'inf'; expected a finite"),
        ([trial_row(trial_num=1e20)], FACESIM3D_COLUMNS, r"line 2: column 'trial_num' has '1e\+20'; expected "
                                                         r"an integer within"),
        ([trial_row(caught="maybe")], FACESIM3D_COLUMNS, r"line 2: column 'caught' has 'maybe'"),
        ([trial_row(response_time="fast")], FACESIM3D_COLUMNS, r"column 'response_time'"),
        ([trial_row(response_time="nan"), trial_row(start_time="-inf")], FACESIM3D_COLUMNS,
         r"line 3: column 'start_time' has '-inf'; expected a finite number"),
    ],
    ids=["missing-column", "extra-column", "pilot-missing-column", "non-integer-head", "fractional-head",
         "infinite-head", "huge-trial-num", "bad-caught", "bad-response-time", "infinite-time"],
)
def test_bad_files_name_file_line_and_column(tmp_path, manifest_of, rows, columns, message):
    f = write_trials(tmp_path / "bad.csv", rows, columns)
    out = tmp_path / "clean.parquet"
    with pytest.raises(TrialFileError, match=message) as err:
        import_judgments([f], manifest_of(), "facesim3d", out, tmp_path / "s.csv")
    assert "bad.csv" in str(err.value) and "\n" not in str(err.value)
    assert not out.exists() and not (tmp_path / "s.csv").exists()


def test_ragged_line_is_refused_by_line(tmp_path):
    f = write_trials(tmp_path / "t.csv", [trial_row(), trial_row(trial_num=2)])
    f.write_text(f.read_text() + "p01,3,2\n")
    with pytest.raises(TrialFileError, match=r"t.csv, line 4: 3 fields, but the header has 21"):
        read_trial_file(f)


def test_head_outside_face_set(tmp_path, manifest_of):
    f = write_trials(tmp_path / "t.csv", [trial_row(), trial_row(head3=7, triplet="1_2_7")])
    message = r"t.csv, line 3: column 'head3' has face id 7, not in the face set"
    with pytest.raises(TrialFileError, match=message):
        import_judgments([f], manifest_of(6), "facesim3d", tmp_path / "o.parquet", tmp_path / "s.csv")


def test_chosen_head_must_be_shown(tmp_path, manifest_of):
    f = write_trials(tmp_path / "t.csv", [trial_row(head_odd=5)])
    with pytest.raises(TrialFileError, match=r"head_odd 5 is not one of the shown heads"):
        import_judgments([f], manifest_of(6), "facesim3d", tmp_path / "o.parquet", tmp_path / "s.csv")


def test_duplicate_face_in_normal_trial(tmp_path, manifest_of):
    f = write_trials(tmp_path / "t.csv", [trial_row(head3=2)])
    with pytest.raises(TrialFileError, match=r"non-catch trial shows a face twice"):
        import_judgments([f], manifest_of(6), "facesim3d", tmp_path / "o.parquet", tmp_path / "s.csv")


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(TrialFileError, match="empty.csv: file is empty"):
        read_trial_file(tmp_path / "empty.csv")
    with pytest.raises(TrialFileError, match=r"'nope/\*.csv' \(config key judgments.files\) not found"):
        expand_files(["nope/*.csv"])


def test_allow_extra_columns(tmp_path):
    f = write_trials(tmp_path / "t.csv", [dict(trial_row(), idx=0)], [*FACESIM3D_COLUMNS, "idx"])
    assert len(read_trial_file(f, allow_extra=["idx"])) == 1
