"""The explainer-validity stage: every explainer checked against known answers on unseen faces.

On the interventional stage's trials (unseen synthetic faces, so neither the backbone nor any
head saw them) each explainer's region values are compared with

- the model's own **region Shapley** values (the 12 regions and the rest, pasted from the mean
  face in all three faces at once; ``explain.region_shapley``),
- the **renderer truth**: the model's interventional group Shapley values mapped onto regions by
  each group's measured pixel footprint (``validity.truth``),
- the **observers' truth**: the mean simulated observer's group values for the same decision,
  mapped the same way,

and with two floors that know nothing about the model (a random map, the |difference image|).
Sanity checks re-explain a subset of trials after randomising the head and then backbone layers
top-down (``validity.sanity``). ``randomised_head_rho`` compares |region values| (the unit every
region conclusion uses) per trial between the trained and the randomised head;
``randomised_head_pixel_rho`` compares |R| pixel maps (Adebayo et al.'s form; for region Shapley's
pixel form it mostly ranks pixels by 1 / region area, so it says little there).
Outputs: ``regions/explainer_validity.csv`` (one row per model ×
explainer), ``faithfulness/sanity.csv`` (one row per model × explainer × check) and a JSON
summary with costs, split-half reliability and IG completeness.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from facesimxai.artifacts.gates import RANDOMISED_HEAD_GATE, TRUTH_GATE
from facesimxai.data.face_params import GROUPS
from facesimxai.data.observers import distance_scale, parameter_weights
from facesimxai.data.unseen import load_unseen
from facesimxai.errors import InputError
from facesimxai.explain.engines import ExplainSettings, TripletExplainer
from facesimxai.explain.integrated import IGSettings
from facesimxai.explain.references import reference_faces
from facesimxai.explain.region_shapley import REST, SPLIT_REST, ShapleySettings, region_players
from facesimxai.explain.triplet_function import from_triplet_model
from facesimxai.io import open_zarr, write_csv, write_json, write_parquet
from facesimxai.landmarks.masks import hull_mask, region_hulls, resolve_overlaps
from facesimxai.landmarks.region_definitions import check_priority, load_regions
from facesimxai.models.train import load_triplet_model
from facesimxai.models.vgg import preprocess
from facesimxai.regions.interventional import masked_parameters, observer_game, rowwise_spearman, sample_triplets
from facesimxai.shapley import exact_shapley
from facesimxai.torch_utils import resolve_device, seed_everything
from facesimxai.validity.explainers import (
    FLOORS,
    MODEL_EXPLAINERS,
    PIXEL_EXPLAINERS,
    Inputs,
    explain,
    floor_maps,
    region_values,
)
from facesimxai.validity.sanity import cascade_steps, map_similarity, randomised, rank1_share
from facesimxai.validity.truth import group_footprints, region_truth

log = logging.getLogger(__name__)

#: MediaPipe face-mesh indices of the face oval (``mp.solutions.face_mesh.FACEMESH_FACE_OVAL``).
FACE_OVAL = (10, 21, 54, 58, 67, 93, 103, 109, 127, 132, 136, 148, 149, 150, 152, 162, 172, 176, 234, 251,
             284, 288, 297, 323, 332, 338, 356, 361, 365, 377, 378, 379, 389, 397, 400, 454)


def _within(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.nanmean(rowwise_spearman(a, b)))


def _across(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.nanmean(rowwise_spearman(a.T, b.T)))


def sign_agreement(values: np.ndarray, truth: np.ndarray) -> float:
    """Share of trial × region entries with a nonzero truth where the explainer has its sign,
    weighted by |truth| (a sign on a region that barely matters counts little)."""
    w = np.abs(truth)
    return float((w * (np.sign(values) == np.sign(truth))).sum() / w.sum()) if w.sum() > 0 else float("nan")


def decision_agreement(model, inputs: Inputs, heads: np.ndarray, target: np.ndarray) -> float:
    """Share of trials on which ``model`` picks the same odd one out as ``target`` (intact faces)."""
    fn = from_triplet_model(model, inputs.device, 64)
    emb = fn.embed(inputs.faces[torch.from_numpy(heads.ravel())]).reshape(len(heads), 3, -1)
    return float((fn.logits(emb).argmax(-1).cpu().numpy() == np.asarray(target)).mean())


def face_players(landmarks: np.ndarray, input_size: int, regions_file, priority, margin: float,
                 split_rest: bool) -> tuple[np.ndarray, np.ndarray]:
    """(players (F, 13 or 14, S, S), found (F,) bool) from each face's mesh (F, 478, 3), NaN where
    MediaPipe found none; ``split_rest`` splits the rest by the hull of the face oval (``FACE_OVAL``)."""
    regions = load_regions(regions_file)
    order = check_priority(priority)
    found = np.isfinite(landmarks).all(axis=(1, 2))
    masks = np.zeros((len(landmarks), len(regions.names), input_size, input_size), bool)
    face = np.zeros((len(landmarks), input_size, input_size), bool)
    for f in np.flatnonzero(found):
        masks[f] = resolve_overlaps(region_hulls(landmarks[f], regions, input_size, margin), regions.names, order)
        face[f] = hull_mask(landmarks[f, list(FACE_OVAL), :2], input_size, margin)
    return region_players(masks, face if split_rest else None), found


def _unseen_landmarks(path: Path | str, n_faces: int, input_size: int) -> np.ndarray:
    """The first ``n_faces`` meshes of the ``unseen_landmarks`` store, checked against the model input."""
    store = open_zarr(path)
    if int(store.attrs["input_size"]) != input_size:
        raise InputError(f"{path}: face mesh in {store.attrs['input_size']} px, but the backbone takes "
                         f"{input_size} px; re-run rule unseen_landmarks")
    if store.sizes["face"] < n_faces:
        raise InputError(f"{path}: {store.sizes['face']} unseen faces, interventional.n_faces needs {n_faces}")
    return store["landmarks"].to_numpy()[:n_faces]


def _prepare(unseen, unseen_landmarks, inter_cfg: dict, cfg: dict, regions_cfg: dict,
             input_size: int, mode: str, device) -> tuple[Inputs, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    images_all, params_all = load_unseen(unseen)
    images, params = images_all[: inter_cfg["n_faces"]], params_all[: inter_cfg["n_faces"]]
    trials = sample_triplets(len(params), inter_cfg["n_trials"], inter_cfg["seed"])
    trial_ids = np.arange(len(trials))[: cfg["n_trials"]]
    players, found = face_players(_unseen_landmarks(unseen_landmarks, len(images), input_size), input_size,
                                  regions_cfg["file"], regions_cfg["priority"], regions_cfg["margin"],
                                  cfg["split_rest"])
    ok = found[trials[trial_ids] - 1].all(axis=1)
    if not ok.all():
        log.warning("%d of %d validity trials show a face without a face mesh and are left out",
                    int((~ok).sum()), len(ok))
    trial_ids = trial_ids[ok]
    if not len(trial_ids):
        missing = ", ".join(str(f + 1) for f in np.flatnonzero(~found)[:10])
        raise InputError(f"{unseen}: MediaPipe finds no face mesh on unseen face(s) {missing}, and every "
                         "validity trial shows one; lower landmarks.min_detection_confidence or render larger")
    faces = preprocess(images, input_size, mode)
    ig = cfg["integrated_gradients"]
    inputs = Inputs(faces, reference_faces(images, faces, "mean", True, input_size, mode),
                    reference_faces(images, faces, ig["baseline"], True, input_size, mode, ig["blur_sigma"]),
                    players, mode, device)
    return inputs, params, params_all, trials, trial_ids


def run_explainer_validity(backbone: Path | str, heads: dict[str, Path | str], unseen: Path | str,
                           unseen_landmarks: Path | str, interventional: Path | str, cfg: dict,
                           inter_cfg: dict, observers_cfg: dict, regions_cfg: dict, device: str, workers: int,
                           out_validity: Path | str, out_sanity: Path | str, out_regions: Path | str,
                           out_json: Path | str) -> pd.DataFrame:
    """The ``explainer_validity`` rule: validity table, sanity table, per-trial region values, summary."""
    seed_everything(cfg["seed"], workers)
    dev = resolve_device(device)
    _, mode = load_triplet_model(backbone, next(iter(heads.values())))
    input_size = int(torch.load(backbone, map_location="cpu", weights_only=True)["input_size"])
    inputs, params, params_all, trials, trial_ids = _prepare(unseen, unseen_landmarks, inter_cfg, cfg,
                                                             regions_cfg, input_size, mode, dev)
    heads_rows = trials[trial_ids] - 1  # rows into the faces
    mass = group_footprints(params, load_unseen(unseen)[0][: len(params)], inputs.players, workers)
    table = pd.read_parquet(interventional)
    scale = distance_scale(params_all, parameter_weights(observers_cfg["group_weights"]))
    masked = masked_parameters(params)
    shapley = ShapleySettings(**cfg["region_shapley"])
    ig = IGSettings(**cfg["integrated_gradients"])
    player_names = [*load_regions(regions_cfg["file"]).names, *(SPLIT_REST if cfg["split_rest"] else (REST,))]
    rows, sanity_rows, region_rows = [], [], []
    summary: dict = {"n_trials": int(len(trial_ids)), "n_faces": int(len(params)), "players": player_names,
                     "region_shapley": {**cfg["region_shapley"]},
                     "integrated_gradients": {**cfg["integrated_gradients"]},
                     "gates": {"truth_within_rho": TRUTH_GATE, "randomised_head_rho": RANDOMISED_HEAD_GATE},
                     "models": {}}
    n_sanity = min(cfg["sanity_trials"], len(trial_ids))
    for name, path in heads.items():
        model, _ = load_triplet_model(backbone, path)
        model = model.to(dev).eval()
        t = table[table["model"] == name].set_index(["trial", "group"])
        group_phi = np.array([[t.loc[(int(i), g), "phi"] for g in GROUPS] for i in trial_ids])
        target = np.array([int(t.loc[(int(i), GROUPS[0]), "target_pos"]) for i in trial_ids])
        obs_phi = exact_shapley(observer_game(masked, trials[trial_ids], target, observers_cfg["group_weights"],
                                              observers_cfg["temperature"], scale))
        truth = region_truth(group_phi, mass, heads_rows)
        observers = region_truth(obs_phi, mass, heads_rows)
        results, seconds = {}, {}
        for ex in MODEL_EXPLAINERS:
            t0 = time.perf_counter()
            results[ex] = explain(ex, model, inputs, heads_rows, target, shapley, ig)
            seconds[ex] = time.perf_counter() - t0
            log.info("%s %s: %d trials in %.1f s", name, ex, len(heads_rows), seconds[ex])
        rs = results["region_shapley"]["result"]
        reference = rs.phi
        msum = {"region_shapley_exact": rs.exact, "region_shapley_coalitions_per_face": rs.n_coalitions,
                "region_shapley_split_half_reliability": rs.split_half_reliability(),
                "region_shapley_mean_se": float(np.nanmean(rs.se)),
                "region_shapley_efficiency_max_error": float(np.abs(rs.phi.sum(1) - (rs.v_full - rs.v_empty)).max()),
                "integrated_gradients_median_completeness_error":
                    float(np.median(results["integrated_gradients"]["completeness_error"])),
                "seconds": seconds}
        for fl in FLOORS:
            results[fl] = {"maps": floor_maps(fl, inputs, heads_rows, cfg["seed"])}
        # sanity: randomise the head, then backbone layers top-down, on the first n_sanity trials
        sub = slice(0, n_sanity)
        steps = cascade_steps(model) if cfg["cascade"] else cascade_steps(model)[:1]
        quick = replace(shapley, n_permutations=min(shapley.n_permutations, cfg["sanity_permutations"]))
        randomised_rho: dict[str, tuple[float, float, float]] = {}
        sub_rows = heads_rows[sub]
        trained_sub = {}
        for ex in MODEL_EXPLAINERS:
            trained_sub[ex] = results[ex]["maps"][sub]
            if ex == "region_shapley" and quick != shapley:  # the same sampling noise on both sides
                trained_sub[ex] = explain(ex, model, inputs, sub_rows, target[sub], quick, ig)["maps"]
        for label, layers in steps:
            rmodel = randomised(model, layers, cfg["seed"]).to(dev)
            # how alike the randomised model decides, beside how alike its maps are (on the demo a
            # random head keeps 25-45% of the choices, chance 33%)
            agreement = decision_agreement(rmodel, inputs, sub_rows, target[sub])
            for ex in MODEL_EXPLAINERS:
                rmaps = explain(ex, rmodel, inputs, sub_rows, target[sub], quick, ig)["maps"]
                rho, ssim = map_similarity(trained_sub[ex], rmaps)
                region_rho = _within(np.abs(region_values(trained_sub[ex], inputs.players, sub_rows)),
                                     np.abs(region_values(rmaps, inputs.players, sub_rows)))
                sanity_rows.append((name, ex, "randomised", label, region_rho, rho, ssim, agreement))
                if label == "head":
                    randomised_rho[ex] = (region_rho, rho, agreement)
        for ex in ("lrp_alpha2_beta1", "lrp_epsilon_plus", "lrp_gamma_box", "gradient_x_input", "gradient"):
            spec = ExplainSettings(**{"method": PIXEL_EXPLAINERS[ex]["method"], "output": "logit", "positions": "all"})
            logit_maps, _, _ = TripletExplainer(model, spec, mode, dev).direct(
                inputs.faces[torch.from_numpy(heads_rows[sub])], target[sub])
            other = (target[sub] + 1) % 3
            other_maps, _, _ = TripletExplainer(model, spec, mode, dev).direct(
                inputs.faces[torch.from_numpy(heads_rows[sub])], other)
            rho, ssim = map_similarity(logit_maps.numpy(), results[ex]["maps"][sub])
            sanity_rows.append((name, ex, "output", "logit_vs_contrastive", float("nan"), rho, ssim, float("nan")))
            rho, ssim = map_similarity(logit_maps.numpy(), other_maps.numpy())
            sanity_rows.append((name, ex, "output", "target_logit_vs_other_logit", float("nan"), rho, ssim,
                                float("nan")))
            if ex.startswith("lrp") and hasattr(model.head, "decision"):
                basis_ex = TripletExplainer(model, ExplainSettings(method=PIXEL_EXPLAINERS[ex]["method"]), mode, dev)
                shares = [rank1_share(basis_ex.basis(inputs.faces[f])) for f in np.unique(heads_rows[sub])[:3]]
                sanity_rows.append((name, ex, "factorized_basis", "first_singular_share", float("nan"),
                                    float(np.mean(shares)), float("nan"), float("nan")))
        for ex in (*MODEL_EXPLAINERS, *FLOORS):
            values = reference if ex == "region_shapley" else region_values(results[ex]["maps"], inputs.players,
                                                                            heads_rows)
            # a floor ignores the model: randomising the head cannot change it
            rand_rho, rand_pixel_rho, rand_agreement = (1.0, 1.0, 1.0) if ex in FLOORS else randomised_rho[ex]
            row = {"model": name, "explainer": ex, "kind": "floor" if ex in FLOORS else "explainer",
                   "rho_vs_region_shapley_within": _within(values, reference),
                   "rho_vs_region_shapley_across": _across(values, reference),
                   "rho_vs_truth_within": _within(values, truth), "rho_vs_truth_across": _across(values, truth),
                   "rho_vs_observers_within": _within(values, observers),
                   "sign_agreement": sign_agreement(values, truth), "randomised_head_rho": rand_rho,
                   "randomised_head_pixel_rho": rand_pixel_rho,
                   "randomised_head_decision_agreement": rand_agreement,
                   "n_trials": int(len(trial_ids))}
            rows.append(row)
            for i, tid in enumerate(trial_ids):
                for p, player in enumerate(player_names):
                    region_rows.append((name, ex, int(tid), player, values[i, p], truth[i, p], observers[i, p]))
        floor = max(r["rho_vs_truth_within"] for r in rows if r["model"] == name and r["kind"] == "floor")
        for r in rows:
            if r["model"] == name:
                r["passed"] = bool(r["kind"] == "explainer" and r["rho_vs_truth_within"] >= TRUTH_GATE
                                   and r["rho_vs_truth_within"] > floor
                                   and r["randomised_head_rho"] <= RANDOMISED_HEAD_GATE)
        msum["truth_vs_observers_within_rho"] = _within(truth, observers)
        summary["models"][name] = msum
    validity = pd.DataFrame(rows)
    sanity = pd.DataFrame(sanity_rows, columns=["model", "explainer", "check", "variant", "region_spearman_abs",
                                                "pixel_spearman_abs", "pixel_ssim_abs", "decision_agreement"])
    write_csv(validity, out_validity)  # atomic: no half-written table under the final name
    write_csv(sanity, out_sanity)
    write_parquet(pd.DataFrame(region_rows, columns=["model", "explainer", "trial", "region", "value", "truth",
                                                     "observers"]), out_regions, csv=False)
    summary["passed"] = {m: sorted(validity[(validity.model == m) & validity.passed].explainer) for m in heads}
    write_json(summary, out_json)
    for m in heads:
        log.info("%s: explainers that passed: %s", m, ", ".join(summary["passed"][m]) or "none")
    return validity

