"""Do the triplet models generalise to faces they never saw?

A model that memorised its training faces (by skin and hair, say) scores well on test trials
that repeat training triplets and at chance on new faces. Synthetic data: the same simulated
observers judge triplets of unseen faces; each human-trained model is scored against their
choices and against the mean observer, next to chance and the noise ceiling (how often one
observer agrees with the mean observer). VGG-MaxP is scored against the backbone's MaxP rule on
the same faces. Any data: accuracy on test trials whose triplet was / was not in training, and
on trials of held-out faces when the split is face-disjoint.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from facesimxai.data.observers import pair_features, parameter_weights, simulate_trials
from facesimxai.data.unseen import load_unseen
from facesimxai.io import write_json
from facesimxai.models.backbone import load_backbone
from facesimxai.models.features import maxp_odd
from facesimxai.models.probe import layer_features
from facesimxai.models.train import MODEL_SPECS, load_head, predict
from facesimxai.models.vgg import preprocess
from facesimxai.torch_utils import resolve_device

log = logging.getLogger(__name__)

CHANCE = 1 / 3


def mean_observer_odd(params: np.ndarray, heads: np.ndarray, group_weights: dict[str, float]) -> np.ndarray:
    """Odd position chosen by the mean observer (noise-free): the face outside the closest pair."""
    return (pair_features(params, heads) @ parameter_weights(group_weights)).argmin(axis=1)


def observer_trials(params: np.ndarray, observers_cfg: dict, seed: int) -> tuple[pd.DataFrame, float]:
    """Simulated judgments of triplets of ``params``' faces by the configured observers (new seed):
    the answered non-catch trials (head ids, odd position) and the noise ceiling."""
    trials, truth = simulate_trials(params, {**observers_cfg, "seed": seed})
    trials = trials[(trials["catch_head"] == 0) & (trials["head_odd"] > 0)].reset_index(drop=True)
    heads = trials[["head1", "head2", "head3"]].to_numpy(int)
    odd = (heads == trials["head_odd"].to_numpy(int)[:, None]).argmax(axis=1)
    table = pd.DataFrame(heads, columns=["head1", "head2", "head3"])
    table["odd_pos"] = odd
    return table, float(truth["agreement_with_mean_observer"])


def feature_distance_odd(feats: np.ndarray, heads: np.ndarray) -> np.ndarray:
    """Odd position by plain Euclidean distance over core features: the floor of any distance-type
    head, which agrees with the observers above chance without learning anything."""
    return pair_features(feats, heads).sum(-1).argmin(axis=1)


def split_accuracies(trials: pd.DataFrame, pred: np.ndarray, target: np.ndarray,
                     held_out_faces: list[int] | None) -> dict:
    """Test-trial accuracy against ``target`` where the triplet was / was not in training, and on
    trials that show a held-out face (face-disjoint splits)."""
    test = (trials["split"] == "test").to_numpy()
    seen = np.isin(trials["triplet_index"].to_numpy(), trials.loc[trials["split"] == "train", "triplet_index"])
    correct = pred == target

    def rate(mask: np.ndarray) -> float:
        return float(correct[mask].mean()) if mask.any() else float("nan")

    out = {"seen_triplet_accuracy": rate(test & seen), "unseen_triplet_accuracy": rate(test & ~seen),
           "n_test_seen_triplet": int((test & seen).sum()), "n_test_unseen_triplet": int((test & ~seen).sum())}
    if held_out_faces:
        shows = np.isin(trials[["head1", "head2", "head3"]].to_numpy(), held_out_faces).any(axis=1)
        out["held_out_face_accuracy"] = rate(test & shows)
        out["n_test_held_out_face"] = int((test & shows).sum())
    return out


def _face_logits(head, feats: np.ndarray, heads: np.ndarray) -> np.ndarray:
    return predict(head, torch.from_numpy(feats[heads - 1]).float()).numpy()


def run_generalisation(backbone: Path | str, heads: dict[str, Path | str], features: Path | str,
                       trials: Path | str, maxp_targets: Path | str, unseen: Path | str | None,
                       observers_cfg: dict | None, cfg: dict, models_cfg: dict, device: str,
                       held_out_faces: list[int] | None, out: Path | str) -> dict:
    """The generalisation rule → ``generalisation.json`` (one entry per model)."""
    from facesimxai.models.train import face_features, targets_for

    tr = pd.read_parquet(trials)
    tr = tr[tr["split"].isin(["train", "val", "test"])].reset_index(drop=True)
    feats, layer = face_features(features)
    mt = pd.read_parquet(maxp_targets)
    x_heads = tr[["head1", "head2", "head3"]].to_numpy()
    result: dict = {}
    unseen_data = None
    if unseen is not None and observers_cfg is not None:
        model, mode = load_backbone(backbone)
        images, params = load_unseen(unseen)
        layers = list(dict.fromkeys([layer, "maxp_5_3"]))
        uf = layer_features(model, preprocess(images, model.input_size, mode), layers, resolve_device(device))
        table, ceiling = observer_trials(params, observers_cfg, cfg["seed"])
        u_heads = table[["head1", "head2", "head3"]].to_numpy()
        unseen_data = {
            "feats": uf[layer], "heads": u_heads, "choices": table["odd_pos"].to_numpy(),
            "mean_observer": mean_observer_odd(params, u_heads, observers_cfg["group_weights"]),
            "maxp_rule": maxp_odd(uf["maxp_5_3"], u_heads, models_cfg["maxp_rule"]), "ceiling": ceiling,
            "distance_floor": feature_distance_odd(uf[layer], u_heads),
            "n_faces": int(len(params))}
    for name, path in heads.items():
        head, _ = load_head(path)
        pred = _face_logits(head, feats, x_heads).argmax(1)
        entry = split_accuracies(tr, pred, targets_for(name, tr, mt, models_cfg["maxp_rule"]), held_out_faces)
        entry["chance"] = CHANCE
        if unseen_data is not None:
            u_pred = _face_logits(head, unseen_data["feats"], unseen_data["heads"]).argmax(1)
            n = len(u_pred)
            if MODEL_SPECS[name]["target"] == "choice":
                entry.update({
                    "unseen_agreement_mean_observer": float((u_pred == unseen_data["mean_observer"]).mean()),
                    "unseen_agreement_choices": float((u_pred == unseen_data["choices"]).mean()),
                    "noise_ceiling": unseen_data["ceiling"],
                    "feature_distance_floor": float((unseen_data["distance_floor"]
                                                     == unseen_data["mean_observer"]).mean()),
                    "reference": "simulated observers on unseen faces"})
            else:
                entry.update({
                    "unseen_agreement_maxp_rule": float((u_pred == unseen_data["maxp_rule"]).mean()),
                    "noise_ceiling": 1.0,
                    "reference": f"the backbone's maxp_5_3 {models_cfg['maxp_rule']} rule on unseen faces"})
            entry.update({"n_faces": unseen_data["n_faces"], "n_trials": n})
        result[name] = entry
        log.info("%s: %s", name, ", ".join(f"{k} {v:.3f}" for k, v in entry.items() if isinstance(v, float)))
    write_json(result, out)
    return result
