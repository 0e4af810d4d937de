"""The Snakemake DAG end to end on config/test.yaml, and the real-data path on generated files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, trial_row, write_trials
from PIL import Image

from facesimxai.data.render import render_face
from facesimxai.io import open_zarr

pytestmark = pytest.mark.integration

RULE_LOGS = ["render_faces", "render_pretrain", "simulate_judgments", "clean_judgments", "triplets",
             "face_figures", "judgment_figures"]


def snakemake(workdir: Path, config: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(config), "--cores", "2", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)


def _run_ok(workdir: Path, config: Path = ROOT / "config" / "test.yaml") -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    proc = snakemake(workdir, config)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return workdir / "results"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("dag")
    return _run_ok(base / "a"), _run_ok(base / "b")


def test_dag_builds_every_output_with_a_log_per_rule(two_runs):
    res = two_runs[0]
    trials = pd.read_parquet(res / "judgments" / "trials.parquet")
    assert {"trial_id", "triplet_index", "odd_pos", "split", "head_odd", "source"} <= set(trials.columns)
    assert set(trials["split"]) == {"train", "val", "test"} and (trials["source"] == "simulated").all()
    for name in ("faces", "parameter_effects", "pretrain_examples", "judgments", "observer_recovery"):
        with Image.open(res / "figures" / "data" / f"{name}.png") as im:
            assert im.size[0] > 300
    for rule in RULE_LOGS:
        assert (res / "logs" / f"{rule}.log").stat().st_size > 0, rule


def test_same_config_gives_identical_results(two_runs):
    a, b = two_runs
    for rel in ["faces/images/face_001.png", "faces/images/face_008.png",
                "judgments/simulated/trials.csv", "judgments/cleaning_summary.csv"]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    for rel in ["faces/manifest.parquet", "judgments/trials.parquet", "judgments/triplets.parquet"]:
        da, db = pd.read_parquet(a / rel), pd.read_parquet(b / rel)
        da = da.drop(columns=["source_file"], errors="ignore")
        db = db.drop(columns=["source_file"], errors="ignore")
        pd.testing.assert_frame_equal(da, db)
    za = open_zarr(a / "pretrain" / "renders.zarr")["image"].to_numpy()
    zb = open_zarr(b / "pretrain" / "renders.zarr")["image"].to_numpy()
    assert np.array_equal(za, zb)


def test_rerun_has_nothing_to_do(two_runs):
    proc = snakemake(two_runs[0].parent, ROOT / "config" / "test.yaml", "-n")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr


def test_lint_is_clean():
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and "good condition" in proc.stdout + proc.stderr, proc.stdout


def test_config_typo_stops_the_run_naming_the_key(tmp_path):
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    cfg["faces"]["synthetic"]["n_face"] = cfg["faces"]["synthetic"].pop("n_faces")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(cfg))
    proc = snakemake(tmp_path, bad, "-n")
    assert proc.returncode != 0
    assert "unknown config key(s) 'n_face' under 'faces.synthetic'" in proc.stdout + proc.stderr


def _real_data_config(tmp_path: Path, trial_rows: list[dict]) -> Path:
    faces = tmp_path / "cfd"
    faces.mkdir()
    rng = np.random.default_rng(5)
    for i in range(1, 7):
        Image.fromarray(render_face(rng.uniform(-1, 1, 17), size=150)).save(faces / f"CFD-{i}.jpg")
    write_trials(tmp_path / "trials.csv", trial_rows)
    cfg = {"device": "cpu", "faces": {"source": "folder", "folder": str(faces)},
           "judgments": {"source": "facesim3d", "files": [str(tmp_path / "t*.csv")]}}
    path = tmp_path / "real.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _facesim3d_rows(n: int = 60) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for t in range(n):
        heads = rng.choice(np.arange(1, 7), 3, replace=False)
        rows.append(trial_row(trial_num=t + 1, block_num=2 + t // 20, head1=heads[0], head2=heads[1],
                              head3=heads[2], head_odd=heads[t % 3],
                              triplet="_".join(map(str, sorted(heads)))))
    return rows


def test_real_data_path_runs_the_same_rules(tmp_path):
    rows = _facesim3d_rows()
    rows[5]["head_odd"] = 0  # a timeout, dropped by cleaning
    res = _run_ok(tmp_path / "w", _real_data_config(tmp_path, rows))
    manifest = pd.read_parquet(res / "faces" / "manifest.parquet")
    assert (manifest["source"] == "import").all() and len(manifest) == 6
    trials = pd.read_parquet(res / "judgments" / "trials.parquet")
    assert len(trials) == 59 and (trials["source"] == "facesim3d").all()
    assert not (res / "figures" / "data" / "observer_recovery.png").exists()


def test_bad_trial_file_fails_clearly_and_leaves_nothing_complete(tmp_path):
    rows = _facesim3d_rows()
    rows[10]["head2"] = 42
    (tmp_path / "w").mkdir()
    proc = snakemake(tmp_path / "w", _real_data_config(tmp_path, rows))
    assert proc.returncode != 0
    assert "trials.csv, row 12: column 'head2' has face id 42" in proc.stdout + proc.stderr
    assert (tmp_path / "w" / "results" / "faces" / "manifest.parquet").exists()
    assert not (tmp_path / "w" / "results" / "judgments" / "cleaned.parquet").exists()
