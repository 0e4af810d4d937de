"""Explanation tables, template sentences and the explain-trial CLI on hand-made tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from facesimxai.cli import explain_trial, main
from facesimxai.explanations.table import explanation_table, top_regions
from facesimxai.explanations.text import sentence


def row(**kw) -> dict:
    base = {"model": "hum", "pred_pos": 1, "human_odd": 1, "target_pos": 1, "confidence": 0.64,
            "softmax_conf": 0.91, "towards": [["left_eye", 0.123], ["mouth", 0.041]], "against": [["nose_tip", -0.032]]}
    return {**base, **kw}


def test_sentence_signs_order_and_agreement():
    s = sentence(row())
    assert s == ("VGG-Hum chose face 2 as the odd one out, with a calibrated confidence of 64% (softmax 91%). "
                 "On face 2, the left eye (+12.3%) and the mouth (+4.1%) pushed towards this output; "
                 "the nose tip (-3.2%) pushed against it. The human also chose face 2.")
    s = sentence(row(model="maxp", human_odd=0, confidence=float("nan"), against=[]))
    assert s.startswith("VGG-MaxP chose face 2 as the odd one out, with a softmax probability of 91% (no calibrated")
    assert "no region pushed against it" in s and s.endswith("The human chose face 1 instead.")
    assert "not the one chosen" in sentence(row(target_pos=0))
    assert "No region of face 2 carried relevance." in sentence(row(towards=[], against=[]))
    assert "the mouth (+0.041%)" in sentence(row(towards=[["mouth", 0.00041]]))  # never '+0.0%'


def test_top_regions_split_by_sign_and_rank_by_magnitude():
    shares = pd.DataFrame({"region": ["a", "b", "c", "d", "e"], "share": [0.1, -0.4, 0.3, 0.0, -0.05]})
    towards, against = top_regions(shares, 1)
    assert towards == [["c", 0.3]] and against == [["b", -0.4]]
    assert top_regions(shares, 5) == ([["c", 0.3], ["a", 0.1]], [["b", -0.4], ["e", -0.05]])


def tables():
    conf = pd.DataFrame({"trial_id": [7, 8], "split": ["test", "test"], "model": ["hum", "hum"],
                         "pred_pos": [2, 0], "human_odd": [2, 1], "confidence": [0.7, np.nan],
                         "softmax_conf": [0.8, 0.5]})
    reg = pd.DataFrame({"trial_id": [7, 7, 7, 8, 8], "position": [2, 2, 0, 0, 0], "target_pos": [2, 2, 2, 0, 0],
                        "face_id": [5, 5, 3, 9, 9], "region": ["eyes", "mouth", "eyes", "chin", "eyes"],
                        "share": [0.2, -0.1, 0.9, -0.3, 0.0]})
    return conf, reg


def test_explanation_table_uses_the_target_face_only(tmp_path):
    conf, reg = tables()
    table = explanation_table(conf, {"hum": reg}, "lrp", top_k=3)
    assert table["trial_id"].tolist() == [7, 8] and table["target_face"].tolist() == [5, 9]
    assert json.loads(table.loc[0, "towards"]) == [["eyes", 0.2]]  # position 0's 0.9 is not the target face
    assert json.loads(table.loc[1, "against"]) == [["chin", -0.3]] and json.loads(table.loc[1, "towards"]) == []
    assert "calibrated confidence of 70%" in table.loc[0, "sentence"]
    assert "The human chose face 2 instead." in table.loc[1, "sentence"]
    with pytest.raises(ValueError, match=r"hum: 1 trials of the region table have no prediction \(first: \[8\]\)"):
        explanation_table(conf[conf["trial_id"] != 8], {"hum": reg}, "lrp")


def test_cli_prints_a_known_trial(tmp_path, capsys):
    conf, reg = tables()
    (tmp_path / "explanations").mkdir()
    explanation_table(conf, {"hum": reg}, "lrp").to_parquet(tmp_path / "explanations" / "trials.parquet")
    main(["explain-trial", "7", "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert "VGG-Hum chose face 3 as the odd one out, with a calibrated confidence of 70%" in out
    assert "lrp" in out and "0.7" in out
    with pytest.raises(SystemExit, match="trial 99 is not in"):
        explain_trial(99, tmp_path)
    with pytest.raises(SystemExit, match="does not exist; run the pipeline first"):
        explain_trial(7, tmp_path / "nowhere")
