"""Bad input through the real pipeline: each case stops Snakemake with one message that names the
file, row, index or config key, and leaves no output that looks complete. (A trial file with bad
rows: ``test_workflow.test_bad_trial_file_fails_clearly_and_leaves_nothing_complete``.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
import yaml
from conftest import ROOT, snakemake

from facesimxai.models.vgg import VGGFace

pytestmark = pytest.mark.integration


def config_with(tmp_path: Path, **changes) -> Path:
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    for dotted, value in changes.items():
        node = cfg
        *parents, last = dotted.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def copy_run(first_run, tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(first_run.parent, work, symlinks=True)
    return work


def failed(proc) -> str:
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0, log[-2000:]
    assert "Traceback" not in log, log[-3000:]  # bad input is one message, not a stack trace
    return log


def test_config_with_wrong_types_stops_before_any_job(tmp_path):
    bad = config_with(tmp_path, explain__scatter="two", models__train__epochs=-1)
    log = failed(snakemake(tmp_path, bad, "-n"))
    assert "config key 'explain.scatter': 'two' is not of type 'integer'" in log
    assert "config key 'models.train.epochs': -1 is less than the minimum of 1" in log
    assert not (tmp_path / "results").exists()


def test_truncated_weights_file_names_the_file(tmp_path):
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())["backbone"]
    weights = tmp_path / "vggface.pth"
    model = VGGFace(cfg["width"], cfg["input_size"], 10)
    torch.save({f"{k}": v for k, v in model.state_dict().items()}, weights)
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    conf = config_with(tmp_path, backbone__source="load", backbone__weights=str(weights), backbone__n_classes=10)
    log = failed(snakemake(tmp_path, conf, "results/models/backbone.pt"))
    assert f"{weights}: not a readable PyTorch weights file" in log
    assert not list((tmp_path / "results" / "models").glob("backbone*"))


def test_missing_face_image_names_the_image(first_run, tmp_path):
    work = copy_run(first_run, tmp_path)
    image = work / "results" / "faces" / "images" / "face_003.png"
    image.unlink()
    log = failed(snakemake(work, ROOT / "config" / "test.yaml", "--forcerun", "core_features",
                           "results/models/core_features.zarr"))
    assert "results/faces/images/face_003.png: face image listed in results/faces/manifest.parquet (face_id 3) " \
           "is missing" in log
    assert not (work / "results" / "models" / "core_features.zarr").exists()


def test_region_file_with_unknown_landmark_index_names_region_and_index(first_run, tmp_path):
    work = copy_run(first_run, tmp_path)
    regions = yaml.safe_load((ROOT / "resources" / "regions.yaml").read_text())
    first = next(iter(regions["regions"]))
    regions["regions"][first]["indices"][0] = 999
    bad = tmp_path / "my_regions.yaml"
    bad.write_text(yaml.safe_dump(regions))
    conf = config_with(tmp_path, regions__file=str(bad))
    log = failed(snakemake(work, conf, "results/regions/masks.zarr"))
    assert "my_regions.yaml" in log and f"'{first}'" in log and "landmark index 999" in log
    assert not (work / "results" / "regions" / "masks.zarr").exists()
