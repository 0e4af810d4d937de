"""SIGKILL during each long stage, then a re-run: it completes, recomputes no more than the
interrupted unit (an epoch, a batch, a scatter part; the whole job for PCA), leaves nothing that
looks complete meanwhile, and its results equal the uninterrupted pipeline run (``first_run``)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import ROOT
from killing import literal, pipeline_threads, resolved_config, run_child

from facesimxai.io import open_zarr
from facesimxai.latent.autoencoder import holdout_mask

pytestmark = pytest.mark.integration

ADAM_STEP = "torch.optim.adam.Adam.step"


def same_weights(a, b) -> bool:
    sa = torch.load(a, weights_only=True)["state_dict"]
    sb = torch.load(b, weights_only=True)["state_dict"]
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def kill_and_resume(code: str, target: str, kill_at: int, outputs: list, resume_file, cwd=ROOT) -> tuple[int, str]:
    """Kill at call ``kill_at``; check nothing looks complete; re-run; return (calls, log) of the re-run."""
    run_child(code, target, kill_at, cwd=cwd)
    assert not [p for p in outputs if p.exists()], "a killed run left outputs that look complete"
    if resume_file is not None:
        assert resume_file.exists(), "no resume state was kept"
    _, calls, log = run_child(code, target, cwd=cwd)
    if resume_file is not None:
        assert not resume_file.exists(), "the resume state outlived the finished output"
    return calls, log


def test_killed_pretraining_resumes_at_its_last_epoch(first_run, tmp_path):
    ref = first_run
    cfg = resolved_config()["backbone"]
    metrics = json.loads((ref / "models" / "backbone.json").read_text())
    per_epoch = math.ceil(metrics["n_train_renders"] / cfg["pretrain"]["batch_size"])
    epochs = cfg["pretrain"]["epochs"]
    out, out_metrics = tmp_path / "backbone.pt", tmp_path / "backbone.json"
    code = f"""
        from facesimxai.models.backbone import build_backbone
        build_backbone({str(ref / "pretrain" / "renders.zarr")!r}, {literal(cfg)}, "cpu", {pipeline_threads()},
                       {str(out)!r}, {str(out_metrics)!r})
    """
    # die at the first step of epoch 2 (after epoch 1's state was saved)
    calls, log = kill_and_resume(code, ADAM_STEP, per_epoch + 1, [out, out_metrics], tmp_path / "backbone.pt.resume")
    assert "resuming after epoch 1" in log
    assert calls == (epochs - 1) * per_epoch  # epoch 1 was not trained again
    got = json.loads(out_metrics.read_text())
    assert got["resumed_after_epoch"] == 1 and got["history"] == metrics["history"]
    assert same_weights(out, ref / "models" / "backbone.pt")


@pytest.mark.parametrize("model", ["hum", "maxp"])
def test_killed_head_training_resumes_mid_run(first_run, tmp_path, model):
    ref = first_run
    cfg = resolved_config()["models"]
    metrics = json.loads((ref / "models" / model / "metrics.json").read_text())
    per_epoch = math.ceil(metrics["n"]["train"] / cfg["train"]["batch_size"])
    out, out_metrics = tmp_path / "head.pt", tmp_path / "metrics.json"
    code = f"""
        from facesimxai.models.train import train_head
        m = {str(ref / "models")!r}
        train_head(m + "/core_features.zarr", {str(ref / "judgments" / "trials.parquet")!r},
                   m + "/maxp_targets.parquet", {model!r}, {literal(cfg)}, "cpu",
                   {pipeline_threads()}, {str(out)!r}, {str(out_metrics)!r})
    """
    kill_at = per_epoch + 1 + per_epoch // 2  # in the middle of epoch 2
    calls, log = kill_and_resume(code, ADAM_STEP, kill_at, [out, out_metrics], tmp_path / "head.pt.resume")
    assert "resuming after epoch 1" in log
    assert calls == (cfg["train"]["epochs"] - 1) * per_epoch
    got = json.loads(out_metrics.read_text())
    assert got["history"] == metrics["history"] and got["test_accuracy"] == metrics["test_accuracy"]
    assert same_weights(out, ref / "models" / model / "head.pt")


def test_killed_autoencoder_resumes_at_its_last_epoch(first_run, tmp_path):
    ref = first_run
    full = resolved_config()
    cfg, how = full["latent"]["autoencoder"], full["latent"]["normalise"]
    store = ref / "heatmaps" / "hum" / "lrp.zarr"
    n = open_zarr(store).sizes["trial"]
    keep = ~holdout_mask(n, cfg["holdout"], cfg["seed"])
    per_epoch = sum(math.ceil(keep[s:s + cfg["block_size"]].sum() / cfg["batch_size"])
                    for s in range(0, n, cfg["block_size"]))
    outs = [tmp_path / "autoencoder.zarr", tmp_path / "autoencoder.pt", tmp_path / "autoencoder.json"]
    code = f"""
        from facesimxai.latent.autoencoder import run_autoencoder
        run_autoencoder({str(store)!r}, {literal(cfg)}, {how!r}, "cpu", *{[str(p) for p in outs]!r},
                        threads={pipeline_threads()})
    """
    calls, log = kill_and_resume(code, ADAM_STEP, per_epoch + 1 + per_epoch // 2, outs,
                                 tmp_path / "autoencoder.pt.resume")
    assert "resuming after epoch 1" in log
    assert calls == (cfg["epochs"] - 1) * per_epoch
    want = ref / "latent" / "hum" / "lrp"
    assert same_weights(outs[1], want / "autoencoder.pt")
    latent = [open_zarr(p)["latent"].to_numpy() for p in (outs[0], want / "autoencoder.zarr")]
    assert np.array_equal(*latent)
    got, exp = (json.loads(p.read_text()) for p in (outs[2], want / "autoencoder.json"))
    assert got["history"] == exp["history"] and got["holdout_mse"] == exp["holdout_mse"]


def test_killed_pca_reruns_the_job_and_leaves_no_store(first_run, tmp_path):
    """PCA's unit is the job (one streaming pass, minutes even at full scale): killed between two
    partial fits it leaves no store, and the re-run equals the uninterrupted one."""
    ref = first_run
    full = resolved_config()
    cfg = {**full["latent"]["pca"], "normalise": full["latent"]["normalise"]}
    out = tmp_path / "pca.zarr"
    code = f"""
        from facesimxai.latent.pca import run_pca
        run_pca({str(ref / "heatmaps" / "maxp" / "lrp.zarr")!r}, {literal(cfg)}, {str(out)!r})
    """
    calls, _ = kill_and_resume(code, "sklearn.decomposition._incremental_pca.IncrementalPCA.partial_fit", 2,
                               [out], None)
    assert not list(tmp_path.glob(".pca.zarr.*")), "a temporary store was left behind"
    want = open_zarr(ref / "latent" / "maxp" / "lrp" / "pca.zarr")
    got = open_zarr(out)
    for var in ("scores", "components", "explained_variance_ratio"):
        assert np.array_equal(got[var].to_numpy(), want[var].to_numpy()), var


def test_killed_vlm_run_resumes_at_the_interrupted_batch(first_run, tmp_path):
    ref = first_run
    full = resolved_config()
    cfg = {k: v for k, v in full["vlm"].items() if k not in ("resources", "top_k", "n_permutations")}
    cfg["model"] = "results/vlm/tiny_model"  # as the rule passes it, relative to the work directory
    explainer = full["explanations"]["explainer"] or next(iter(full["explain"]["explainers"]))
    stores = {m: f"results/heatmaps/{m}/{explainer}.zarr" for m in full["explain"]["models"]}
    out, parts = tmp_path / "answers.parquet", tmp_path / "parts"
    code = f"""
        from facesimxai.vlm.run import run_vlm
        run_vlm("results/judgments/trials.parquet", "results/faces/manifest.parquet", {literal(cfg)},
                {str(out)!r}, stores={literal(stores)}, parts_dir={str(parts)!r})
    """
    target = "facesimxai.vlm.backends.hf.TransformersBackend.generate"
    want = pd.read_parquet(ref / "vlm" / "answers.parquet")
    n_batches, size, prev = 0, 0, None  # batches never mix tasks (vlm.run.batches)
    for task in want["task"]:
        if prev != task or size == cfg["batch_size"]:
            n_batches, size = n_batches + 1, 0
        size, prev = size + 1, task
    calls, log = kill_and_resume(code, target, 2, [out, tmp_path / "answers.csv"], None, cwd=ref.parent)
    assert len(list(parts.glob("*.parquet"))) == n_batches
    assert "reused 1 finished batches" in log and calls == n_batches - 1
    got = pd.read_parquet(out)
    timing = ["seconds"]
    pd.testing.assert_frame_equal(got.drop(columns=timing), want.drop(columns=timing))


def test_killed_explain_run_resumes_only_the_missing_parts(first_run, tmp_path):
    """SIGKILL of the whole Snakemake run during the LRP scatter, re-run: only unfinished parts
    are recomputed, and the stores equal those of an uninterrupted run."""
    reference = first_run
    work = tmp_path / "resume"
    shutil.copytree(reference.parent, work, symlinks=True)
    heat = work / "results" / "heatmaps"
    shutil.rmtree(heat)
    shutil.rmtree(work / "results" / "figures" / "heatmaps")
    config = ROOT / "config" / "test.yaml"
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "workflow" / "Snakefile"), "--directory",
           str(work), "--configfile", str(config), "--cores", "1",
           # only VGG-Hum's stores: the stages after them are not what this test is about
           *(f"results/heatmaps/hum/{e}.zarr" for e in ("lrp", "lrp_plus"))]
    first_log = tmp_path / "first.log"
    done = re.compile(r"Finished jobid: \d+ \(Rule: explain_part\)")
    with open(first_log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=fh, stderr=subprocess.STDOUT)
        deadline = time.time() + 600
        while not done.search(first_log.read_text()) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # Parts Snakemake recorded as finished; a part killed mid-way (or before Snakemake recorded
    # it) counts as unfinished and must be recomputed.
    finished = len(done.findall(first_log.read_text()))
    total = 2 * yaml.safe_load(config.read_text())["explain"]["scatter"]  # explainers x parts
    assert 1 <= finished < total, "the run was not interrupted during the scatter"
    assert not [p for p in heat.glob("*/*.zarr") if (p / "zarr.json").exists()], "a store looks complete"
    subprocess.run([*cmd, "--unlock"], cwd=ROOT, capture_output=True, check=True)
    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    log = rerun.stdout + rerun.stderr
    assert log.count("rule explain_part:") == total - finished
    for explainer in ("lrp", "lrp_plus"):
        got = open_zarr(heat / "hum" / f"{explainer}.zarr")["relevance"].to_numpy()
        want = open_zarr(reference / "heatmaps" / "hum" / f"{explainer}.zarr")["relevance"].to_numpy()
        assert np.array_equal(got, want), explainer
