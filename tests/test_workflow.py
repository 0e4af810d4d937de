"""The Snakemake DAG end to end on config/test.yaml, and the real-data path on generated files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
import yaml
from conftest import (
    ROOT,
    job_counts,
    rerun_after_explainer_change,
    resolved_config,
    run_ok,
    snakemake,
    trial_row,
    unavailable,
    write_trials,
)
from PIL import Image

from facesimxai.data.faces import load_face_image
from facesimxai.data.render import render_face
from facesimxai.io import open_zarr

pytestmark = pytest.mark.integration

RULE_LOGS = ["render_faces", "render_pretrain", "simulate_judgments", "clean_judgments", "triplets",
             "face_figures", "judgment_figures", "backbone", "core_features", "maxp_targets",
             "train_head_hum", "train_head_maxp", "model_figures"]


def test_dag_builds_every_output_with_a_log_per_rule(first_run):
    res = first_run
    trials = pd.read_parquet(res / "judgments" / "trials.parquet")
    assert {"trial_id", "triplet_index", "odd_pos", "split", "head_odd", "source"} <= set(trials.columns)
    assert set(trials["split"]) == {"train", "val", "test"} and (trials["source"] == "simulated").all()
    for name in ("faces", "parameter_effects", "pretrain_examples", "judgments", "observer_recovery"):
        with Image.open(res / "figures" / "data" / f"{name}.png") as im:
            assert im.size[0] > 300
    for rule in RULE_LOGS:
        assert (res / "logs" / f"{rule}.log").stat().st_size > 0, rule
    for model in ("hum", "maxp"):
        metrics = json.loads((res / "models" / model / "metrics.json").read_text())
        assert metrics["n"]["test"] > 0 and 0 <= metrics["test_accuracy"] <= 1
    with Image.open(res / "figures" / "models" / "training.png") as im:
        assert im.size[0] > 300
    n_trials = len(pd.read_parquet(res / "judgments" / "trials.parquet"))
    for model in ("hum", "maxp"):
        for explainer in ("lrp", "lrp_plus"):
            ds = open_zarr(res / "heatmaps" / model / f"{explainer}.zarr")
            assert ds["relevance"].dims == ("trial", "y", "x") and ds["relevance"].shape == (n_trials, 64, 64)
            assert np.isfinite(ds["relevance"].to_numpy()).all() and np.abs(ds["relevance"]).max() > 0
            assert np.array_equal(np.sort(ds["trial_id"].to_numpy()), np.arange(n_trials))
            assert json.loads(ds.attrs["explainer"])["method"].startswith("epsilon")
            faces = open_zarr(res / "heatmaps" / model / f"{explainer}_faces.zarr")
            assert faces["n_trials"].sum() == n_trials
            assert (res / "logs" / f"gather_heatmaps_{model}_{explainer}.log").stat().st_size > 0


def test_scatter_parts_gather_into_the_single_part_store(first_run, tmp_path):
    """config/test.yaml explains each store in one part; the scatter itself is checked here: three
    parts gathered equal the pipeline's store, and parts that miss a range are refused."""
    from facesimxai.artifacts.heatmaps import StoreError
    from facesimxai.explain.part import explain_part
    from facesimxai.explain.store import gather_heatmaps

    res, m = first_run, first_run / "models"
    store = open_zarr(res / "heatmaps" / "hum" / "lrp.zarr")
    explainer = json.loads(store.attrs["explainer"])
    # the store settings the pipeline passes (workflow/rules/explain.smk, explain_settings)
    explain_cfg = {k: v for k, v in resolved_config()["explain"].items() if k not in ("explainers", "threads")}
    parts, markers = [tmp_path / f"p{i}.zarr" for i in (1, 2, 3)], [tmp_path / f"p{i}.json" for i in (1, 2, 3)]
    for i, (part, marker) in enumerate(zip(parts, markers, strict=True), start=1):
        explain_part(m / "backbone.pt", m / "hum" / "head.pt", res / "faces" / "manifest.parquet",
                     res / "judgments" / "trials.parquet", m / "maxp_targets.parquet", explainer=explainer,
                     explain_cfg=explain_cfg, maxp_rule="relative", scatteritem=f"{i}-of-3", device="cpu",
                     threads=1, out=part, marker=marker)
    args = (m / "backbone.pt", m / "hum" / "head.pt", res / "faces" / "manifest.parquet", explainer, explain_cfg, "x")
    got = gather_heatmaps(parts, markers, *args, out=tmp_path / "s.zarr", faces_out=tmp_path / "f.zarr")
    assert np.array_equal(got["trial_id"], store["trial_id"]) and np.array_equal(got["pred_pos"], store["pred_pos"])
    # float32 LRP in batches of other sizes: equal to about 3e-5 of the largest relevance
    scale = float(abs(store["relevance"]).max())
    np.testing.assert_allclose(got["relevance"], store["relevance"], rtol=1e-3, atol=1e-4 * scale)
    with pytest.raises(StoreError, match=r"incomplete: have \[1, 3\] of 3"):
        gather_heatmaps([parts[0], parts[2]], [markers[0], markers[2]], *args, out=tmp_path / "t.zarr",
                        faces_out=tmp_path / "g.zarr")
    assert not (tmp_path / "t.zarr").exists()


def test_landmark_stage_writes_landmarks_masks_figures_and_logs(first_run):
    res = first_run
    lm = open_zarr(res / "landmarks" / "landmarks.zarr")
    assert lm["landmarks"].dims == ("face", "point", "xyz") and lm["landmarks"].shape == (8, 478, 3)
    masks = open_zarr(res / "regions" / "masks.zarr")
    assert masks["mask"].dims == ("face", "region", "y", "x") and masks["mask"].shape == (8, 12, 64, 64)
    assert masks["area"].dims == ("face", "region") and (masks["area"] > 0).all()
    for name in ("landmarks", "regions"):
        with Image.open(res / "figures" / "regions" / f"{name}.png") as im:
            assert im.size[0] > 300
    for rule in ("landmarks", "region_masks", "region_figures"):
        assert (res / "logs" / f"{rule}.log").stat().st_size > 0, rule


def test_region_stage_scores_every_map_and_tests_recovery(first_run):
    res = first_run
    n_trials = len(pd.read_parquet(res / "judgments" / "trials.parquet"))
    for model in ("hum", "maxp"):
        table = pd.read_parquet(res / "regions" / model / "lrp_trials.parquet")
        assert len(table) == n_trials * 12 and table["trial_id"].nunique() == n_trials
        assert (table["abs_share"].dropna().between(0, 1)).all()
        per_map = table.groupby("trial_id")["abs_share"].sum()
        assert (per_map <= 1 + 1e-6).all() and (per_map > 0).all()
    stats = pd.read_csv(res / "regions" / "stats_models.csv")
    assert set(stats["explainer"]) == {"shapley", "lrp", "lrp_plus"} and len(stats) == 3 * 12
    assert ((stats["p_holm"] >= stats["p"] - 1e-12) | stats["p"].isna()).all()
    truth = json.loads((res / "regions" / "ground_truth.json").read_text())
    refs = {(r["model"], r["explainer"], r["reference"]) for r in truth["recovery"]}
    assert len(refs) == 2 * 3 * 3
    # the tiny test models fail the learning gates: the ground-truth stage must say so first
    assert any("mean observer" in w for w in truth["warnings"]), truth["warnings"]
    assert all(-1 <= r["spearman_rho"] <= 1 and 0 <= r["p_permutation"] <= 1 for r in truth["recovery"])
    for name in ("region_scores", "mean_maps", "ground_truth"):
        with Image.open(res / "figures" / "regions" / f"{name}.png") as im:
            assert im.size[0] > 300
    for rule in ("region_relevance_hum_lrp", "region_stats", "region_stats_figures", "ground_truth"):
        assert (res / "logs" / f"{rule}.log").stat().st_size > 0, rule


def test_region_shapley_store_keeps_the_heatmap_format_and_sums_to_its_region_values(first_run):
    ds = open_zarr(first_run / "heatmaps" / "hum" / "shapley.zarr")
    rel = ds["relevance"].to_numpy().astype(np.float64)  # (trial, position, y, x)
    values = ds["region_value"].to_numpy()
    assert rel.shape[1] == 3 and values.shape == (rel.shape[0], 13) and list(ds["player"].to_numpy())[-1] == "rest"
    np.testing.assert_allclose(rel.sum(axis=(1, 2, 3)), values.sum(1), rtol=1e-4, atol=1e-5)
    assert np.abs(values).max() > 0


def test_explainer_validity_checks_every_explainer_against_known_answers(first_run):
    v = pd.read_csv(first_run / "regions" / "explainer_validity.csv")
    explainers = {"region_shapley", "integrated_gradients", "lrp_thesis", "lrp_alpha2_beta1", "lrp_epsilon_plus",
                  "lrp_gamma_box", "gradient", "gradient_x_input"}
    assert set(v["model"]) == {"hum", "maxp", "hum_distance"}
    for _, d in v.groupby("model"):
        assert set(d["explainer"]) == explainers | {"random", "difference"}
        assert set(d.loc[d["kind"] == "floor", "explainer"]) == {"random", "difference"}
    rs = v[v["explainer"] == "region_shapley"]
    assert (rs["rho_vs_region_shapley_within"] == 1).all()  # itself
    assert not v.loc[v["kind"] == "floor", "passed"].any()
    cols = ["rho_vs_region_shapley_within", "rho_vs_region_shapley_across", "rho_vs_truth_within",
            "rho_vs_observers_within", "sign_agreement", "randomised_head_rho", "randomised_head_decision_agreement"]
    assert set(cols) <= set(v.columns)
    s = pd.read_csv(first_run / "faithfulness" / "sanity.csv")
    assert {"randomised", "output", "factorized_basis"} <= set(s["check"])
    assert s.loc[s["check"] == "randomised", "decision_agreement"].between(0, 1).all()
    assert set(s.loc[s["check"] == "randomised", "variant"]) >= {"head", "head+fc"}
    summary = json.loads((first_run / "regions" / "explainer_validity.json").read_text())
    assert summary["models"]["hum"]["region_shapley_efficiency_max_error"] < 1e-6


def test_the_feather_benchmark_runs_on_a_finished_pipeline(first_run):
    """benchmarks/region_shapley_feather.py reads a finished run's results: here the CI run's, so
    the benchmark that chose the feather cannot rot unnoticed."""
    out = subprocess.run([sys.executable, "benchmarks/region_shapley_feather.py", "--results", str(first_run),
                          "--config", "config/test.yaml", "--feathers", "0", "0.027", "--threads", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line for line in out.stdout.splitlines() if line.startswith("decision=")]
    rows = [dict(kv.split("=") for kv in line.split()) for line in lines]
    assert [(r["decision"], r["feather"]) for r in rows] == [
        ("pixels", "0.000"), ("pixels", "0.027"), ("backbone", "0.000"), ("backbone", "0.027")]
    assert all(-1 <= float(r["rho_within"]) <= 1 for r in rows)


def test_vlm_stage_records_every_request_and_compares_on_held_out_trials(two_runs):
    a, b = two_runs
    answers = pd.read_parquet(a / "vlm" / "answers.parquet")
    trials = pd.read_parquet(a / "judgments" / "trials.parquet").set_index("trial_id")
    n = 12  # config/test.yaml: 12 trials × 3 orders, plus one heatmap reading per explain model and trial
    assert len(answers) == n * 3 + n * 2 and answers["request_id"].is_unique
    assert set(trials.loc[answers["trial_id"].unique(), "split"]) == {"test"}
    assert (answers["backend"] == "transformers").all() and answers["raw_text"].notna().all()
    assert answers["valid"].mean() > 0.5, answers["invalid_reason"].value_counts()
    assert (answers.loc[~answers["valid"], "invalid_reason"] != "").all()
    same = ["request_id", "prompt_hash", "raw_text", "valid", "odd_pos", "regions"]
    pd.testing.assert_frame_equal(answers[same], pd.read_parquet(b / "vlm" / "answers.parquet")[same])
    summary = json.loads((a / "vlm" / "summary.json").read_text())
    assert summary["trials"] == n and summary["splits"] == ["test"]
    assert set(summary["accuracy_vs_human"]) == {"vlm", "hum", "maxp"} and summary["chance_accuracy"] == 1 / 3
    assert {"human|vlm", "vlm|hum", "hum|maxp"} <= set(summary["kappa"])
    assert summary["regions"]["heatmap|hum"]["n"] > 0 and 0 < summary["regions"]["heatmap|hum"]["uniform_hit"] < 1
    with Image.open(a / "figures" / "vlm" / "evaluation.png") as im:
        assert im.size[0] > 600
    meta = json.loads((a / "explorer" / "data" / "meta.js").read_text().strip()[len("FSX.setMeta("):-2])
    col = meta["columns"].index("vlm_pred")
    rows = [r for f in sorted((a / "explorer" / "data").glob("trials_*.js"))
            for r in json.loads(f.read_text().strip()[len("FSX.addTrials("):-2])]
    identity_valid = answers[(answers["order"] == "012") & answers["valid"]]
    assert {r[0]: r[col] for r in rows if r[col] is not None} == dict(
        zip(identity_valid["trial_id"], identity_valid["odd_pos"].astype(float), strict=True))
    for rule in ("tiny_vlm", "vlm", "vlm_evaluation", "vlm_figures"):
        assert (a / "logs" / f"{rule}.log").stat().st_size > 0, rule


def test_verification_stage_scores_every_pair_and_maps_the_sample(first_run):
    """Pairs of held-out identities: fold-wise thresholds from the other folds, C-Scores in
    [0.5, 1], error rates per fold and pooled, X-Maps of the least confident pairs in [-1, 1]."""
    v = first_run / "verification"
    pairs, scores = pd.read_parquet(v / "pairs.parquet"), pd.read_parquet(v / "scores.parquet")
    assert len(pairs) == 48 and pairs["genuine"].sum() == 24 and set(pairs["fold"]) == {0, 1, 2}
    identity = open_zarr(v / "faces.zarr")["identity"].to_numpy()
    assert ((identity[pairs["a"]] == identity[pairs["b"]]) == pairs["genuine"]).all()
    assert scores["c_score"].between(0.5, 1).all() and scores["similarity"].between(-1, 1).all()
    assert (scores["accepted"] == (scores["similarity"] >= scores["threshold"])).all()
    assert (scores.groupby("fold")["threshold"].nunique() == 1).all()
    metrics = json.loads((v / "metrics.json").read_text())
    assert set(metrics["folds"]) == {"0", "1", "2"} and metrics["pooled"]["n_impostor"] == 24
    assert metrics["pooled"]["accuracy"] == pytest.approx(scores["correct"].mean())
    assert metrics["pooled"]["fnmr_at_fmr"]["0.01"] is None  # 24 impostor pairs cannot resolve 1 %
    xm = open_zarr(v / "xmaps.zarr")
    assert xm["xmap"].dims == ("pair", "method", "side", "y", "x") and xm["xmap"].shape[:3] == (2, 3, 2)
    maps = xm["xmap"].to_numpy()
    assert np.isfinite(maps).all() and np.abs(maps).max() == pytest.approx(1.0) and np.abs(maps).max() <= 1
    np.testing.assert_array_equal(maps[:, 2, 0], maps[:, 2, 1])  # method 3: co-located, one map for both
    curves = xm["similarity_curve"].to_numpy()  # pair × (methods + random) × deletion/insertion × step
    assert curves.shape == (2, 4, 2, 11) and np.isfinite(curves).all()
    np.testing.assert_allclose(curves[:, :, 0, 0], curves[:, :, 1, -1], atol=1e-6)  # both end at the pair itself
    faith = json.loads((v / "xmaps_faithfulness.json").read_text())
    assert set(faith["per_order"]) == {"method_1", "method_2", "method_3", "random"}
    sampled = scores.set_index("pair_id").loc[xm["pair_id"].to_numpy()]
    assert sorted(sampled["genuine"]) == [False, True]
    regions, sentences = pd.read_parquet(v / "regions.parquet"), pd.read_parquet(v / "sentences.parquet")
    assert sorted(sentences["pair_id"]) == sorted(xm["pair_id"].to_numpy())  # the X-Map sample
    explained = sentences.dropna(subset=["sentence"])
    assert len(explained) >= 1 and explained["sentence"].str.contains("so the model says").all()
    assert (regions.groupby("pair_id").size() == 5 * 12).all()  # five techniques × 12 regions
    assert set(regions["pair_id"]) == set(explained["pair_id"])
    truth = pd.read_parquet(v / "truth.parquet")  # 1 base face × 7 groups × 3 methods × 2 sides
    assert len(truth) == 42 and set(truth["group"]) == {"head", "eyes", "brows", "nose", "mouth", "skin", "hair"}
    assert truth["area_share"].between(0, 1, inclusive="neither").all()  # every group changes some pixels
    summary = json.loads((v / "truth.json").read_text())
    assert summary["per_method"]["3"]["hit_rate"] == pytest.approx(truth[truth["method"] == 3]["hit"].mean())
    for name in ("error_curves", "c_score_reliability", "xmaps", "truth"):
        with Image.open(first_run / "figures" / "verification" / f"{name}.png") as im:
            assert im.size[0] > 300
    for rule in ("verification_pairs", "verification_scores", "verification_xmaps", "verification_truth",
                 "verification_landmarks", "verification_regions"):
        assert (first_run / "logs" / f"{rule}.log").stat().st_size > 0


def test_faithfulness_stage_compares_every_explainer_on_held_out_trials(first_run):
    res = first_run
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())["faithfulness"]
    trials = pd.read_parquet(res / "judgments" / "trials.parquet").set_index("trial_id")
    explainers = {"shapley", "lrp", "lrp_plus", "gradient", "gradient_x_input", "occlusion", "random"}
    for model in ("hum", "maxp"):
        scores = pd.read_parquet(res / "faithfulness" / model / "scores.parquet")
        assert set(scores["explainer"]) == explainers
        assert scores.groupby("explainer")["trial_id"].nunique().eq(cfg["n_trials"]).all()
        assert set(trials.loc[scores["trial_id"], "split"]) <= {"val", "test"}  # held out only
        curves = pd.read_parquet(res / "faithfulness" / model / "curves.parquet")
        assert curves.groupby(["explainer", "trial_id", "curve"]).size().eq(cfg["steps"] + 1).all()
        regions = pd.read_parquet(res / "faithfulness" / model / "regions.parquet")
        assert set(regions["source"]) == explainers | {"single_removal", "greedy_removal", "single_aggregation",
                                                       "greedy_aggregation", "average"}
    table = pd.read_parquet(res / "faithfulness" / "metrics.parquet")
    assert table[["ci_low", "ci_high"]].notna().all().all() and (table["ci_low"] <= table["mean"] + 1e-12).all()
    summary = json.loads((res / "faithfulness" / "summary.json").read_text())
    assert {(b["model"], b["metric"]) for b in summary["best"]} >= {("hum", "deletion_auc"), ("maxp", "abpc")}
    masking = pd.read_parquet(res / "faithfulness" / "masking.parquet")
    assert set(masking["source"]) == {"hum", "maxp", "hum_seed1", "backbone", "random"}
    assert set(masking["evaluated"]) == {"hum", "maxp", "hum_seed1", "backbone"}
    assert len(masking) == 5 * 4 * len(cfg["masking"]["fractions"]) and masking["flip_rate"].between(0, 1).all()
    for name in ("faithfulness", "masking"):
        with Image.open(res / "figures" / "faithfulness" / f"{name}.png") as im:
            assert im.size[0] > 800
    for rule in ("faithfulness_hum", "faithfulness_maxp", "faithfulness_summary", "seed_head_1", "cross_masking"):
        assert (res / "logs" / f"{rule}.log").stat().st_size > 0, rule


def test_same_config_gives_identical_results(two_runs):
    """Two runs from scratch: identical bytes where the format allows (images, CSV, JSON of the
    ground truth), equal values for every table and Zarr store, equal tensors in every checkpoint."""
    a, b = two_runs
    for rel in ["faces/images/face_001.png", "faces/images/face_008.png", "judgments/simulated/trials.csv",
                "judgments/cleaning_summary.csv", "regions/ground_truth.json", "models/probe.json",
                "models/generalisation.json", "regions/interventional.json"]:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    volatile = ["seconds", "source_file"]  # wall-clock times; absolute paths of the run's inputs
    tables = sorted(p.relative_to(a) for p in a.rglob("*.parquet") if "parts" not in p.parts)
    assert len(tables) >= 25
    for rel in tables:
        da, db = (pd.read_parquet(r / rel).drop(columns=volatile, errors="ignore") for r in (a, b))
        pd.testing.assert_frame_equal(da, db, obj=str(rel))
    checkpoints = sorted(p.relative_to(a) for p in a.rglob("*.pt"))
    assert len(checkpoints) == 11  # backbone, 3 heads (hum, maxp, hum_distance), 1 extra VGG-Hum seed, 6 autoencoders
    for rel in checkpoints:
        sa, sb = (torch.load(r / rel, weights_only=True)["state_dict"] for r in (a, b))
        assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa), rel
    stores = sorted(p.relative_to(a) for p in a.rglob("*.zarr") if not any(q.suffix == ".zarr" for q in p.parents))
    assert len(stores) >= 20
    for rel in stores:
        xr.testing.assert_equal(open_zarr(a / rel).load(), open_zarr(b / rel).load())
    for rel in ("heatmaps/hum/lrp.zarr", "heatmaps/maxp/lrp_plus.zarr"):  # the per-chunk checksums too
        sums = [open_zarr(r / rel).attrs["relevance_chunk_sha256"] for r in (a, b)]
        assert sums[0] == sums[1], rel


def test_explorer_in_headless_chromium(first_run, tmp_path):
    """Open the explorer from disk, filter the table, open a trial: its overlays load, at the
    store's map size. Screenshots go to results/screenshots/ of the run and of the repository."""
    from browser import BrowserUnavailable, dom, find_chromium, screenshot

    try:
        browser = find_chromium()
    except BrowserUnavailable as exc:
        unavailable(str(exc))  # skips, or fails in CI
    res = first_run
    site = res / "explorer"
    meta = json.loads(re.search(r"FSX\.setMeta\((.*)\);", (site / "data" / "meta.js").read_text()).group(1))
    trials = pd.read_parquet(res / "judgments" / "trials.parquet")
    assert meta["n_trials"] == len(trials) and len(meta["viewer"]) == 40  # config/test.yaml explorer.max_trials
    index = dom(browser, f"{(site / 'index.html').as_uri()}?filter=all")
    assert 'data-ready="1"' in index and f'data-rows="{len(trials)}"' in index
    assert "VGG-Hum calibrated" in index and "VGG-MaxP softmax" in index
    hum_wrong = dom(browser, f"{(site / 'index.html').as_uri()}?filter=hum_wrong&split=test")
    store = open_zarr(res / "heatmaps" / "hum" / "lrp.zarr")
    split = store["split"].to_numpy().astype(str)
    want = int(((store["pred_pos"].to_numpy() != store["human_odd"].to_numpy()) & (split == "test")).sum())
    assert f'data-rows="{want}"' in hum_wrong
    trial = meta["viewer"][0]
    page = dom(browser, f"{(site / 'trial.html').as_uri()}?id={trial}")
    assert 'data-images-ready="1"' in page and "data-error" not in page
    overlays = re.findall(r'<img src="(img/overlays/[^"]+)" class="overlay"[^>]*data-loaded="1" '
                          r'data-width="(\d+)" data-height="(\d+)"', page)
    assert len(overlays) == 10  # 2 models x (region Shapley: all 3 positions + 2 LRP explainers: target)
    h, w = store.sizes["y"], store.sizes["x"]
    assert all((int(a), int(b)) == (w, h) for _, a, b in overlays)
    assert f"img/overlays/hum/lrp/{trial}_" in page and (site / overlays[0][0]).exists()
    face = dom(browser, f"{(site / 'face.html').as_uri()}?id=1")
    assert 'data-images-ready="1"' in face
    # verification pairs (issue 26): the table filters, and a pair of the X-Map sample opens with
    # both images and every method's two X-Maps loaded
    assert meta["pairs"]["n_pairs"] == 48 and len(meta["pairs"]["viewer"]) == 2
    wrong = dom(browser, f"{(site / 'pairs.html').as_uri()}?outcome=wrong")
    n_wrong = int((~pd.read_parquet(res / "verification" / "scores.parquet")["correct"]).sum())
    assert 'data-ready="1"' in wrong and f'data-rows="{n_wrong}"' in wrong
    pair = dom(browser, f"{(site / 'pair.html').as_uri()}?id={meta['pairs']['viewer'][0]}")
    assert 'data-images-ready="1"' in pair and "data-error" not in pair
    assert len(re.findall(r'<img src="img/pairs/[^"]+"[^>]*data-loaded="1"', pair)) == 2 + 3 * 2
    # negative control (issue 24): with one image gone the page must not report itself ready
    broken = tmp_path / "explorer"
    shutil.copytree(site, broken)
    first_src = re.search(r'<img src="([^"]+)"', face).group(1)
    (broken / first_src).unlink()
    face_broken = dom(browser, f"{(broken / 'face.html').as_uri()}?id=1")
    assert 'data-images-ready="error"' in face_broken and 'data-images-ready="1"' not in face_broken
    assert f"did not load, e.g. {first_src}" in face_broken
    for out_dir in (res / "screenshots", ROOT / "results" / "screenshots"):
        screenshot(browser, f"{(site / 'index.html').as_uri()}?filter=hum_wrong", out_dir / "explorer_table.png")
        screenshot(browser, f"{(site / 'trial.html').as_uri()}?id={trial}", out_dir / "explorer_trial.png")
        screenshot(browser, f"{(site / 'face.html').as_uri()}?id=1", out_dir / "explorer_face.png")
        screenshot(browser, f"{(site / 'pair.html').as_uri()}?id={meta['pairs']['viewer'][0]}",
                   out_dir / "explorer_pair.png")
    with Image.open(res / "screenshots" / "explorer_trial.png") as im:
        assert im.size == (1300, 1000)


def test_report_holds_every_figure_and_points_to_the_explorer(first_run, tmp_path):
    report = tmp_path / "report.html"
    proc = snakemake(first_run.parent, ROOT / "config" / "test.yaml", "--report", str(report))
    assert proc.returncode == 0, proc.stderr[-3000:]
    html = report.read_text(errors="replace")
    figures = sorted((first_run / "figures").rglob("*.png"))
    assert len(figures) >= 27
    missing = [f.name for f in figures if f.name not in html]
    assert not missing, f"figures not in the report: {missing}"
    assert "results/explorer/index.html" in html


def test_rerun_has_nothing_to_do(first_run):
    proc = snakemake(first_run.parent, ROOT / "config" / "test.yaml", "-n")
    assert proc.returncode == 0 and "Nothing to be done" in proc.stdout + proc.stderr


def test_changing_one_explainer_reruns_only_its_dependents(first_run, tmp_path):
    """Edit one explainer's epsilon: the dry-run lists exactly its chain, and the real re-run
    runs only that chain and leaves every other output untouched."""
    work = tmp_path / "partial"
    shutil.copytree(first_run.parent, work, symlinks=True)
    changed = tmp_path / "changed.yaml"
    expected = rerun_after_explainer_change(ROOT / "config" / "test.yaml", changed)
    dry = snakemake(work, changed, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert job_counts(dry.stdout + dry.stderr) == expected
    res = work / "results"
    untouched = [res / "models" / "hum" / "head.pt", res / "heatmaps" / "hum" / "lrp.zarr" / "zarr.json",
                 res / "latent" / "maxp" / "lrp" / "embedding.parquet"]
    before = {p: p.stat().st_mtime_ns for p in untouched}
    rerun = snakemake(work, changed)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    ran = re.findall(r"^(?:local)?rule (\w+):", rerun.stdout + rerun.stderr, re.M)
    assert {r: ran.count(r) for r in set(ran)} == expected
    assert {p: p.stat().st_mtime_ns for p in untouched} == before
    store = open_zarr(res / "heatmaps" / "maxp" / "lrp_plus.zarr")
    assert json.loads(store.attrs["explainer"])["epsilon"] == 1e-4


def test_dropping_a_trained_model_retrains_no_other_head(first_run, tmp_path):
    """Rules get the config keys they read, not whole blocks (issue 25): `models.trained` is no
    param of head training, so a shorter model list re-runs only what combines all heads.
    Passing all of `models` made it a trigger, and this dry-run listed train_head twice."""
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    cfg["models"]["trained"] = ["hum", "maxp"]
    changed = tmp_path / "two_models.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    dry = snakemake(first_run.parent, changed, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    jobs = job_counts(dry.stdout + dry.stderr)
    assert "generalisation" in jobs, jobs  # it compares every trained head, so it must re-run
    assert not {"backbone", "train_head", "seed_head", "explain_part"} & set(jobs), jobs


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


def test_a_config_file_stands_alone_from_any_working_directory(tmp_path):
    """A --configfile sits on the schema defaults, never on config/config.yaml, also from the
    repository root where that file exists (Snakemake layered it there and skipped it elsewhere).
    Observable: without a `vlm` block the default backend `none` leaves the VLM stage out,
    while the demo config's `transformers` would add it."""
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    del cfg["vlm"]
    cfg["results"] = str(tmp_path / "results")
    path = tmp_path / "no_vlm.yaml"
    path.write_text(yaml.safe_dump(cfg))
    from_root = subprocess.run([sys.executable, "-m", "snakemake", "--configfile", str(path), "--cores", "1",
                                "-n", "--nolock"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    elsewhere = snakemake(tmp_path / "work", path, "-n")
    assert from_root.returncode == 0 and elsewhere.returncode == 0, from_root.stderr[-2000:] + elsewhere.stderr[-2000:]
    root_jobs, other_jobs = (job_counts(p.stdout + p.stderr) for p in (from_root, elsewhere))
    assert "vlm" not in root_jobs and "tiny_vlm" not in root_jobs
    assert root_jobs == other_jobs


def _real_data_config(tmp_path: Path, trial_rows: list[dict]) -> Path:
    faces = tmp_path / "cfd"
    faces.mkdir()
    rng = np.random.default_rng(5)
    for i in range(1, 7):
        # non-square like the CFD's 2444×1718 photographs, squashed as FaceSim3D does
        Image.fromarray(render_face(rng.uniform(-1, 1, 17), size=150)[:, 15:135]).save(faces / f"CFD-{i}.jpg")
    # FaceSim3D's real 21-column layout as its files arrive: floats, BOM, CRLF, a blank line
    write_trials(tmp_path / "trials.csv", trial_rows, as_facesim3d=True, blank_line_after=6)
    cfg = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())
    cfg["faces"] = {"source": "folder", "folder": str(faces), "resize": "facesim3d"}
    cfg["judgments"] = {"source": "facesim3d", "files": [str(tmp_path / "t*.csv")]}
    # Every rule still runs; one model × explainer keeps the per-store stages to one job each.
    cfg["explain"].update(models=["hum"], scatter=1, explainers={"lrp": cfg["explain"]["explainers"]["lrp"]})
    cfg["faithfulness"] = {**cfg.get("faithfulness", {}), "enabled": False, "masking": {"enabled": False}}
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
    res = run_ok(tmp_path / "w", _real_data_config(tmp_path, rows))
    manifest = pd.read_parquet(res / "faces" / "manifest.parquet")
    assert (manifest["source"] == "import").all() and len(manifest) == 6
    size = yaml.safe_load((ROOT / "config" / "test.yaml").read_text())["image_size"]
    stored = np.asarray(Image.open(res / "faces" / manifest["file"][0]))
    np.testing.assert_array_equal(stored, load_face_image(Path(manifest["source_file"][0]), size, "facesim3d"))
    trials = pd.read_parquet(res / "judgments" / "trials.parquet")
    assert len(trials) == 59 and (trials["source"] == "facesim3d").all()
    assert not (res / "figures" / "data" / "observer_recovery.png").exists()
    assert open_zarr(res / "heatmaps" / "hum" / "lrp.zarr").sizes["trial"] == len(trials)
    embedding = pd.read_parquet(res / "latent" / "hum" / "lrp" / "embedding.parquet")
    assert sorted(embedding.loc[embedding["source"] == "pca", "trial_id"]) == sorted(trials["trial_id"])


def test_bad_trial_file_fails_clearly_and_leaves_nothing_complete(tmp_path):
    rows = _facesim3d_rows()
    rows[10]["head2"] = 42  # record 12 of the file, line 13 after the blank line
    (tmp_path / "w").mkdir()
    proc = snakemake(tmp_path / "w", _real_data_config(tmp_path, rows))
    assert proc.returncode != 0
    assert "trials.csv, line 13: column 'head2' has face id 42" in proc.stdout + proc.stderr
    assert (tmp_path / "w" / "results" / "faces" / "manifest.parquet").exists()
    assert not (tmp_path / "w" / "results" / "judgments" / "cleaned.parquet").exists()
