"""FaceSim3D trial import: each cleaning rule on hand-made files, and every bad-input case."""

import pandas as pd
import pytest
from conftest import trial_row, write_trials

from facesimxai.data.judgments import (
    FACESIM3D_COLUMNS,
    TrialFileError,
    clean_trials,
    expand_files,
    import_judgments,
    read_trial_file,
)


def _clean(tmp_path, rows):
    df = read_trial_file(write_trials(tmp_path / "t.csv", rows))
    return clean_trials(df)


def test_rule1_drops_training_block(tmp_path):
    clean, summary = _clean(tmp_path, [trial_row(block_num=1), trial_row(trial_num=2)])
    assert clean["trial_num"].tolist() == [2]
    assert summary.loc[0, "rows_dropped"] == 1


def test_rule2_drops_empty_caught(tmp_path):
    clean, summary = _clean(tmp_path, [trial_row(caught=""), trial_row(trial_num=2)])
    assert clean["trial_num"].tolist() == [2]
    assert summary.loc[1, "rows_dropped"] == 1


def test_rule3_three_missed_catches_drop_the_whole_session(tmp_path):
    miss = dict(catch_head=1, head2=1, head_odd=1, caught="True")
    rows = [trial_row(trial_num=i, block_num=b, **miss) for i, b in ((1, 2), (2, 3), (3, 4))]
    rows += [trial_row(trial_num=4, block_num=5)]
    rows += [trial_row(trial_num=9, ppid="p02", ppid_session_dataname="p02_2D_x")]
    clean, summary = _clean(tmp_path, rows)
    assert clean["ppid"].tolist() == ["p02"]
    assert summary.loc[2, "rows_dropped"] == 4


def test_rule3_fewer_misses_drop_only_their_blocks(tmp_path):
    rows = [
        trial_row(trial_num=1, block_num=2, catch_head=1, head2=1, head_odd=1, caught="True"),
        trial_row(trial_num=2, block_num=2),
        trial_row(trial_num=3, block_num=3),
    ]
    clean, summary = _clean(tmp_path, rows)
    assert clean["trial_num"].tolist() == [3]
    assert summary.loc[2, "rows_dropped"] == 2


def test_rule4_drops_catch_trials_that_were_caught(tmp_path):
    rows = [trial_row(trial_num=1, catch_head=1, head2=1, head_odd=3, caught="False"),
            trial_row(trial_num=2)]
    clean, summary = _clean(tmp_path, rows)
    assert clean["trial_num"].tolist() == [2]
    assert summary.loc[3, "rows_dropped"] == 1


def test_rule5_drops_timeouts(tmp_path):
    clean, summary = _clean(tmp_path, [trial_row(head_odd=0), trial_row(trial_num=2)])
    assert clean["trial_num"].tolist() == [2]
    assert summary["rows_dropped"].tolist() == [0, 0, 0, 0, 1]


def test_import_writes_clean_trials_and_summary(tmp_path, manifest_of):
    f = write_trials(tmp_path / "t.csv", [trial_row(), trial_row(trial_num=2, head_odd=0)])
    out, summary = tmp_path / "clean.parquet", tmp_path / "summary.csv"
    clean = import_judgments([f], manifest_of(), "facesim3d", out, summary)
    back = pd.read_parquet(out)
    assert len(back) == len(clean) == 1
    assert list(back.columns[: len(FACESIM3D_COLUMNS)]) == list(FACESIM3D_COLUMNS)
    assert back["source"].iloc[0] == "facesim3d" and back["source_row"].iloc[0] == 2
    assert pd.read_csv(summary)["rows_after"].iloc[-1] == 1


@pytest.mark.parametrize(
    "rows, columns, message",
    [
        ([trial_row()], [c for c in FACESIM3D_COLUMNS if c != "head_odd"],
         r"missing column\(s\) head_odd"),
        ([dict(trial_row(), extra=1)], [*FACESIM3D_COLUMNS, "extra"], r"unexpected column\(s\) extra"),
        ([trial_row(), trial_row(head3="x")], FACESIM3D_COLUMNS, r"row 3: column 'head3' has 'x'"),
        ([trial_row(head2=2.5)], FACESIM3D_COLUMNS, r"row 2: column 'head2' has '2.5'"),
        ([trial_row(caught="maybe")], FACESIM3D_COLUMNS, r"row 2: column 'caught' has 'maybe'"),
        ([trial_row(response_time="fast")], FACESIM3D_COLUMNS, r"column 'response_time'"),
    ],
    ids=["missing-column", "extra-column", "non-integer-head", "fractional-head", "bad-caught",
         "bad-response-time"],
)
def test_bad_files_name_file_row_and_column(tmp_path, manifest_of, rows, columns, message):
    f = write_trials(tmp_path / "bad.csv", rows, columns)
    out = tmp_path / "clean.parquet"
    with pytest.raises(TrialFileError, match=message) as err:
        import_judgments([f], manifest_of(), "facesim3d", out, tmp_path / "s.csv")
    assert "bad.csv" in str(err.value)
    assert not out.exists() and not (tmp_path / "s.csv").exists()


def test_head_outside_face_set(tmp_path, manifest_of):
    f = write_trials(tmp_path / "t.csv", [trial_row(), trial_row(head3=7, triplet="1_2_7")])
    message = r"t.csv, row 3: column 'head3' has face id 7, not in the face set"
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
